//! `results.json`: every figure and raw sample, for tools and for later
//! reading.

use crate::results::Results;

/// The results as pretty-printed JSON. Non-finite numbers (which no
/// measurement should produce) become `null`, as JSON has no NaN.
pub fn render(results: &Results) -> String {
    // Serialising plain structs of strings, numbers and vectors cannot
    // fail; should it ever, the error itself is better than no file.
    serde_json::to_string_pretty(results)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise results: {e}\"}}"))
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::sample_results;

    #[test]
    fn round_trips_through_a_json_parser() {
        let text = render(&sample_results());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["machine"]["cpu"], "Test CPU");
        assert_eq!(value["settings"]["runs"], 3);
        let programs = value["programs"].as_array().unwrap();
        assert_eq!(programs[0]["name"], "fib");
        let pair = &programs[0]["pairs"][0];
        assert_eq!(pair["runtime"], "kiln-interp");
        assert_eq!(pair["run"]["samples"].as_array().unwrap().len(), 3);
        assert_eq!(pair["run"]["unit"], "s");
        assert!(pair["failure"].is_null());
        let failed = programs[0]["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["runtime"] == "wasm3")
            .unwrap();
        assert_eq!(failed["failure"]["stage"], "run");
        assert_eq!(value["runtimes"][0]["role"], "kiln");
    }

    #[test]
    fn escapes_strings() {
        let mut results = sample_results();
        results.command = "say \"hi\"\n\\".to_string();
        let value: serde_json::Value = serde_json::from_str(&render(&results)).unwrap();
        assert_eq!(value["command"], "say \"hi\"\n\\");
    }
}
