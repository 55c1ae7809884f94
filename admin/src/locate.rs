//! Which stack, in which region — one rule for every command:
//!
//! - the stack's name: `--stack`, else `BRIDGE_STACK`, else `stack_name` of `samconfig.toml`,
//!   else `qapla-connectif-bridge` (the template's samconfig default);
//! - its region: `--region`, else `BRIDGE_REGION`, else `region` of `samconfig.toml` (where
//!   `sam deploy` put the stack), else the AWS environment (`AWS_REGION`, then the profile's
//!   region).
//!
//! `BRIDGE_STACK` and `BRIDGE_REGION` are the two lines `setup` prints to pin both for the
//! commands that follow, wherever they run (a release's console has no `samconfig.toml`).
//!
//! `samconfig.toml` is the one in the current directory or its nearest parent (a clone's,
//! when run from inside it), environment `default`, its `deploy` section over `global`, as
//! `sam deploy` reads it. The region of the secret `setup` writes is this region too.

use std::path::{Path, PathBuf};

pub const DEFAULT_STACK: &str = "qapla-connectif-bridge";

/// The stack and region a command works on, and where each came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub stack: String,
    pub stack_from: String,
    /// `None`: the AWS environment decides.
    pub region: Option<String>,
    pub region_from: String,
}

impl Place {
    /// `stack X (from …) in R (from …)`, with the region the SDK resolved.
    pub fn describe(&self, resolved: Option<&str>) -> String {
        let region = resolved.or(self.region.as_deref()).unwrap_or("no region");
        format!(
            "stack {} (from {}) in {region} (from {})",
            self.stack, self.stack_from, self.region_from
        )
    }
}

/// The rule above; `env` reads the environment, `cwd` is where the search starts.
pub fn locate(
    stack_flag: Option<String>,
    region_flag: Option<String>,
    env: impl Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Result<Place, String> {
    let samconfig = find_samconfig(cwd);
    let (deploy, file) = match &samconfig {
        Some(path) => (read_samconfig(path)?, path.display().to_string()),
        None => (Samconfig::default(), String::new()),
    };
    let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let (stack, stack_from) = if let Some(name) = stack_flag {
        (name, "--stack".to_owned())
    } else if let Some(name) = env("BRIDGE_STACK") {
        (name, "BRIDGE_STACK".to_owned())
    } else if let Some(name) = deploy.stack_name {
        (name, file.clone())
    } else {
        (DEFAULT_STACK.to_owned(), "the default".to_owned())
    };
    let (region, region_from) = if let Some(region) = region_flag {
        (Some(region), "--region".to_owned())
    } else if let Some(region) = env("BRIDGE_REGION") {
        (Some(region), "BRIDGE_REGION".to_owned())
    } else if let Some(region) = deploy.region {
        (Some(region), file)
    } else if env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .is_some()
    {
        (None, "AWS_REGION".to_owned())
    } else {
        (None, "the AWS profile".to_owned())
    };
    Ok(Place {
        stack,
        stack_from,
        region,
        region_from,
    })
}

#[derive(Debug, Default)]
struct Samconfig {
    stack_name: Option<String>,
    region: Option<String>,
}

fn find_samconfig(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .map(|dir| dir.join("samconfig.toml"))
        .find(|path| path.is_file())
}

fn read_samconfig(path: &Path) -> Result<Samconfig, String> {
    let unreadable = |why: String| format!("{} is not readable: {why}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e: toml::de::Error| unreadable(e.message().to_owned()))?;
    let value = |key: &str| {
        ["deploy", "global"].iter().find_map(|section| {
            table
                .get("default")?
                .get(section)?
                .get("parameters")?
                .get(key)?
                .as_str()
                .filter(|v| !v.trim().is_empty())
                .map(str::to_owned)
        })
    };
    Ok(Samconfig {
        stack_name: value("stack_name"),
        region: value("region"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(samconfig: Option<&str>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("locate-{}", fastrand::u64(..)));
        let nested = dir.join("a/b");
        std::fs::create_dir_all(&nested).expect("dir");
        if let Some(text) = samconfig {
            std::fs::write(dir.join("samconfig.toml"), text).expect("write");
        }
        nested
    }

    const SAMCONFIG: &str = "version = 0.1\n[default.global.parameters]\nstack_name = \"shop-bridge\"\n[default.deploy.parameters]\nregion = \"eu-south-1\"\n";

    #[test]
    fn the_pinned_stack_and_region_win_over_samconfig() {
        let cwd = dir_with(Some(SAMCONFIG));
        let env = |k: &str| match k {
            "BRIDGE_STACK" => Some("pinned".to_owned()),
            "BRIDGE_REGION" => Some("eu-central-1".to_owned()),
            _ => None,
        };
        let place = locate(None, None, env, &cwd).expect("place");
        assert_eq!(
            (place.stack.as_str(), place.region.as_deref()),
            ("pinned", Some("eu-central-1"))
        );
        assert_eq!(
            (place.stack_from.as_str(), place.region_from.as_str()),
            ("BRIDGE_STACK", "BRIDGE_REGION")
        );
    }

    #[test]
    fn samconfig_names_the_stack_and_its_region_over_the_shells_region() {
        let cwd = dir_with(Some(SAMCONFIG));
        let env = |k: &str| (k == "AWS_REGION").then(|| "us-east-1".to_owned());
        let place = locate(None, None, env, &cwd).expect("place");
        assert_eq!(place.stack, "shop-bridge");
        assert_eq!(place.region.as_deref(), Some("eu-south-1"));
        assert!(place.region_from.ends_with("samconfig.toml"), "{place:?}");
        let said = place.describe(Some("eu-south-1"));
        assert!(said.starts_with("stack shop-bridge (from /"), "{said}");
    }

    #[test]
    fn flags_then_environment_then_defaults() {
        let cwd = dir_with(Some(SAMCONFIG));
        let env = |k: &str| (k == "BRIDGE_STACK").then(|| "from-env".to_owned());
        let flags = locate(Some("s".into()), Some("ap-south-2".into()), env, &cwd).expect("place");
        assert_eq!(
            (flags.stack.as_str(), flags.region.as_deref()),
            ("s", Some("ap-south-2"))
        );
        assert_eq!(
            (flags.stack_from.as_str(), flags.region_from.as_str()),
            ("--stack", "--region")
        );
        let from_env = locate(None, None, env, &cwd).expect("place");
        assert_eq!(from_env.stack, "from-env");
        let bare = locate(None, None, |_| None, &dir_with(None)).expect("place");
        assert_eq!(
            (bare.stack.as_str(), bare.region.clone()),
            (DEFAULT_STACK, None)
        );
        assert_eq!(bare.region_from, "the AWS profile");
    }

    #[test]
    fn a_broken_samconfig_is_an_error_that_names_it() {
        let cwd = dir_with(Some("[default.deploy.parameters\n"));
        let e = locate(None, None, |_| None, &cwd).expect_err("broken");
        assert!(e.contains("samconfig.toml is not readable"), "{e}");
    }
}
