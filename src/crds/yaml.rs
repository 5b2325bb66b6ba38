//! Writing JSON values as block YAML that every YAML reader takes back as the
//! same value. serde_yaml writes `on`, `off`, `yes` or `no` unquoted, which
//! YAML 1.1 readers (kubectl's among them) read as booleans: a pulled Plan CRD
//! would then list `targetPowerState: [true, false, auto]`. Here a string is
//! left plain only when it is plainly a string in YAML 1.1 and 1.2 alike;
//! anything else is double-quoted (JSON string syntax, which YAML shares), and
//! multi-line text becomes a literal block where that is exact.

use serde_json::Value;

/// `v` as a YAML document.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => seq(a, 0, &mut out),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

fn map(m: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first entry of a map inside a sequence follows its "- ".
        if i > 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&string(k, indent));
        out.push(':');
        value(v, indent, out);
    }
}

/// A value after `key:` (the key at `indent`).
fn value(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            map(m, indent + 2, out);
        }
        // Sequences sit at their key's indentation, as kubectl and controller-gen write them.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            seq(a, indent, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent + 2));
            out.push('\n');
        }
    }
}

fn seq(a: &[Value], indent: usize, out: &mut String) {
    for v in a {
        out.push_str(&" ".repeat(indent));
        match v {
            Value::Object(m) if !m.is_empty() => {
                out.push_str("- ");
                map(m, indent + 2, out);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push_str("-\n");
                seq(inner, indent + 2, out);
            }
            other => {
                out.push_str("- ");
                out.push_str(&scalar(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A scalar or empty container; block text lines go at `indent`.
fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, indent),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

fn string(s: &str, indent: usize) -> String {
    if plain(s) {
        return s.to_owned();
    }
    if let Some(block) = literal_block(s, indent) {
        return block;
    }
    serde_json::to_string(s).expect("a string is JSON")
}

/// Whether `s` reads back as this string when written plain, in YAML 1.1 and 1.2.
fn plain(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && !s.ends_with(' ')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-./()+=,;'`@%".contains(c))
        && !SPECIAL.iter().any(|w| s.eq_ignore_ascii_case(w))
}

/// `|` / `|-` literal text, when it says exactly `s`.
fn literal_block(s: &str, indent: usize) -> Option<String> {
    if !s.contains('\n')
        || s.contains('\r')
        || s.ends_with("\n\n")
        || s.starts_with([' ', '\t', '\n'])
    {
        return None;
    }
    let (body, chomp) = match s.strip_suffix('\n') {
        Some(b) => (b, "|"),
        None => (s, "|-"),
    };
    if body
        .lines()
        .any(|l| l.ends_with([' ', '\t']) || l.chars().any(|c| c.is_control() && c != '\t'))
    {
        return None;
    }
    let pad = " ".repeat(indent);
    let mut out = chomp.to_owned();
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_yaml_1_1_would_misread_are_quoted() {
        let v = json!({"enum": ["on", "off", "auto", "Yes", "n", "~", "1Gi", "010", "2026-01-01", "- x", "a: b", "#c", "", " lead", "null"],
            "plain": "spec.provider is immutable", "n": 1.5, "b": false, "nil": null, "e": {}, "l": []});
        let text = to_string(&v);
        assert!(
            text.contains("- \"on\"\n- \"off\"\n- auto\n- \"Yes\"\n- \"n\"\n- \"~\"\n- \"1Gi\""),
            "{text}"
        );
        assert!(
            text.contains("plain: spec.provider is immutable\n"),
            "{text}"
        );
        assert!(text.contains("e: {}\nl: []\n"), "{text}");
        let back: Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn multi_line_text_is_a_literal_block_when_exact() {
        let v = json!({"a": {"description": "One.\n\nTwo:\n  - \"x\"", "kept": "ends with newline\n", "odd": "trailing \nspace"}});
        let text = to_string(&v);
        assert!(
            text.contains("  description: |-\n    One.\n\n    Two:\n      - \"x\"\n"),
            "{text}"
        );
        assert!(
            text.contains("  kept: |\n    ends with newline\n"),
            "{text}"
        );
        assert!(text.contains("odd: \"trailing \\nspace\""), "{text}");
        assert_eq!(serde_yaml::from_str::<Value>(&text).unwrap(), v);
    }

    #[test]
    fn every_crd_in_crds_reads_back_the_same() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/crds");
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let v: Value = serde_yaml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let text = to_string(&v);
            let back: Value = serde_yaml::from_str(&text).unwrap();
            assert_eq!(back, v, "{}", p.display());
        }
    }
}
