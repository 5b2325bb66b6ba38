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
    let mut close: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let lower = c.to_lowercase();
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
