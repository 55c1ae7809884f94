//! What a check prints: one line per step, ✓ or ✗, and for every ✗ the fix in one sentence;
//! or the same as JSON (`--json`).

use serde_json::{Value, json};

/// One step of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub name: &'static str,
    pub ok: bool,
    /// Not tried, for a reason that is not a problem (shown with `–`).
    pub skipped: bool,
    /// What was found (never a secret value or a full e-mail address).
    pub detail: String,
    /// For a failed step: what to do, in one sentence.
    pub fix: Option<String>,
}

impl Step {
    pub fn pass(name: &'static str, detail: impl Into<String>) -> Self {
        Step {
            name,
            ok: true,
            skipped: false,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn skipped(name: &'static str, detail: impl Into<String>) -> Self {
        Step {
            skipped: true,
            ..Step::pass(name, detail)
        }
    }

    pub fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Step {
            name,
            ok: false,
            skipped: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Every step of a check, in order.
#[derive(Debug, Default)]
pub struct Report {
    pub steps: Vec<Step>,
    /// Lines printed after the steps (e.g. where to see the test events in Connectif).
    pub notes: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok)
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            let mark = match (s.ok, s.skipped) {
                (_, true) => '–',
                (true, false) => '✓',
                (false, false) => '✗',
            };
            out.push_str(&format!("{mark} {}: {}\n", s.name, s.detail));
            if let Some(fix) = &s.fix {
                out.push_str(&format!("    fix: {fix}\n"));
            }
        }
        for note in &self.notes {
            out.push_str(&format!("{note}\n"));
        }
        out
    }

    pub fn json(&self, channel: &str) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| json!({ "step": s.name, "ok": s.ok, "skipped": s.skipped, "detail": s.detail, "fix": s.fix }))
            .collect();
        json!({ "channel": channel, "ok": self.ok(), "steps": steps, "notes": self.notes })
    }
}
