//! The app's Tauri commands, one module per feature; each is a few lines over `gocua-core`.

mod names;

pub use names::COMMANDS;

pub mod campaigns;
pub mod drafts;
pub mod duplicates;
pub mod enrollment;
pub mod households;
pub mod import;
pub mod lock;
pub mod office;
pub mod rejected;
pub mod reports;
pub mod residents;
pub mod review;
pub mod sandbox;
pub mod spotcheck;
pub mod sync;
pub mod today;

#[cfg(test)]
mod tests {
    use super::COMMANDS;

    /// The capability file grants exactly the app's own commands: no plugin, no core permission.
    #[test]
    fn the_capability_grants_exactly_our_commands() {
        let text = include_str!("../../capabilities/default.json");
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(json["windows"], serde_json::json!(["main"]));
        let granted: Vec<String> =
            json["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
        let expected: Vec<String> = COMMANDS.iter().map(|c| format!("allow-{}", c.replace('_', "-"))).collect();
        assert_eq!(granted, expected);
    }

    /// The CSP is explicit and allows no remote origin.
    #[test]
    fn the_csp_is_explicit_and_local() {
        let conf: serde_json::Value = serde_json::from_str(include_str!("../../tauri.conf.json")).unwrap();
        let csp = conf["app"]["security"]["csp"].as_str().unwrap();
        assert!(csp.contains("default-src 'self'"), "{csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
        assert!(!csp.contains("https:") && !csp.contains('*'), "{csp}");
    }
}
