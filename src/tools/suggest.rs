//! "Did you mean …": close names for a misspelt tool, field, VM or type.

/// Edit distance between two names (Levenshtein).
pub fn distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// Up to `take` candidates close to `word`, closest first: within
/// `max_edits` of it, or containing it, or contained in it, ignoring case.
pub fn close_matches<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max_edits: usize,
    take: usize,
) -> Vec<&'a str> {
    let word = word.to_lowercase();
    let word_chars = word.chars().count();
    let mut close: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
            // The edit distance is at least the length gap, and exactly it
            // when one string contains the other: past the bound, no need
            // to compute it (quadratic in the lengths, and a word can be a
            // 4 MiB argument).
            let gap = lower.chars().count().abs_diff(word_chars);
            if gap > max_edits {
                return (lower.contains(&word) || word.contains(&lower)).then_some((gap, c));
            }
            let d = distance(&lower, &word);
            (d <= max_edits || lower.contains(&word) || word.contains(&lower)).then_some((d, c))
        })
        .collect();
    close.sort();
    close.dedup();
    close.into_iter().take(take).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the tool_args fuzz target: set_setting with a 7 KB name
    /// took 0.7 s computing edit distances to every setting name. Words far
    /// longer (or shorter) than a candidate now skip the distance; what is
    /// found, and its order, stay the same.
    #[test]
    fn words_much_longer_than_the_candidates_match_by_containment_in_the_same_order() {
        let names = [
            "controller_max_vm_inflight",
            "feature_vmware_system_serial_number",
            "vddk_image",
        ];
        let long = format!(
            "{}feature_vmware_system_serial_number{}",
            "Q".repeat(4000),
            "$".repeat(3000)
        );
        assert_eq!(
            close_matches(&long, names, 4, 3),
            ["feature_vmware_system_serial_number"]
        );
        let both = format!("{}controller_max_vm_inflight-vddk_image", "x".repeat(50));
        // Both contained: the shorter candidate is further away.
        assert_eq!(
            close_matches(&both, names, 4, 3),
            ["controller_max_vm_inflight", "vddk_image"]
        );
        for (a, b) in [
            (&long[..], names[1]),
            (&both[..], names[0]),
            (&both[..], names[2]),
        ] {
            assert_eq!(
                distance(&a.to_lowercase(), b),
                a.chars().count() - b.chars().count(),
                "a containing string's distance is the length gap"
            );
        }
        assert!(close_matches("vddk", names, 1, 3) == ["vddk_image"]);
    }

    #[test]
    fn closest_first_within_the_edit_bound_or_by_containment() {
        let names = ["get_plans", "get_providers", "get_hooks", "watch_plan"];
        assert_eq!(close_matches("get_plan", names, 1, 3), ["get_plans"]);
        assert_eq!(close_matches("GET_PLANZ", names, 1, 3), ["get_plans"]);
        // Containment either way, whatever the distance; closest first.
        assert_eq!(
            close_matches("plan", names, 1, 5),
            ["get_plans", "watch_plan"]
        );
        assert_eq!(close_matches("get_hooks_now", names, 1, 5), ["get_hooks"]);
        assert_eq!(close_matches("plan", names, 1, 1), ["get_plans"]);
        assert!(close_matches("zzz", names, 2, 3).is_empty());
        assert_eq!(distance("vsphre", "vsphere"), 1);
    }
}
