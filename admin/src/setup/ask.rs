//! Answers: a flag's value, else a question on the terminal (a key without echo), else —
//! with no terminal, in a script — an error naming the flag.

use std::io::{BufRead, IsTerminal, Write};

pub struct Asker {
    /// Whether questions can be asked (stdin and stderr are a terminal, not `--json`).
    pub interactive: bool,
}

impl Asker {
    pub fn new(json: bool) -> Self {
        Asker {
            interactive: !json && std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
        }
    }

    /// `given`, or the answer to `question` (`default` on an empty answer).
    pub fn text(
        &self,
        given: Option<String>,
        question: &str,
        default: Option<&str>,
        flag: &str,
    ) -> Result<String, String> {
        if let Some(value) = given.filter(|v| !v.trim().is_empty()) {
            return Ok(value.trim().to_owned());
        }
        if !self.interactive {
            return default.map(str::to_owned).ok_or_else(|| {
                format!("missing {flag}: give it as a flag (no terminal to ask on)")
            });
        }
        let shown = default.map(|d| format!(" [{d}]")).unwrap_or_default();
        eprint!("{question}{shown}: ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading the answer: {e}"))?;
        match (line.trim(), default) {
            ("", Some(d)) => Ok(d.to_owned()),
            ("", None) => Err(format!("no answer for {flag}")),
            (answer, _) => Ok(answer.to_owned()),
        }
    }

    /// A key: `given`, or typed without echo.
    pub fn key(&self, given: Option<String>, question: &str, flag: &str) -> Result<String, String> {
        if let Some(value) = given.filter(|v| !v.trim().is_empty()) {
            return Ok(value.trim().to_owned());
        }
        if !self.interactive {
            return Err(format!(
                "missing {flag}: give it as a flag or its environment variable (no terminal to ask on)"
            ));
        }
        let answer = rpassword::prompt_password(format!("{question} (not shown): "))
            .map_err(|e| format!("reading the key: {e}"))?;
        Some(answer.trim().to_owned())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("no answer for {flag}"))
    }

    /// Whether to go on (always, when not interactive: `--yes` is implied by a script).
    pub fn confirm(&self, question: &str) -> Result<bool, String> {
        if !self.interactive {
            return Ok(true);
        }
        let answer = self.text(None, &format!("{question} (y/n)"), Some("y"), "--yes")?;
        Ok(answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes"))
    }
}
