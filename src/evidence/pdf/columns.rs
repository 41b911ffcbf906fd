//! Column widths fitted to content within the page width. Pure.

/// Widths adding up to `available`: when the natural widths fit, each column grows in
/// proportion to its natural width; when they do not, narrow columns keep their natural width
/// and the wide ones share what is left equally (max-min fairness), so no column is squeezed
/// below what the narrow ones get.
pub(super) fn fit(natural: &[f32], available: f32) -> Vec<f32> {
    if natural.is_empty() {
        return Vec::new();
    }
    let natural: Vec<f32> = natural.iter().map(|width| width.max(0.0)).collect();
    let total: f32 = natural.iter().sum();
    if total <= available {
        if total <= 0.0 {
            return vec![available / natural.len() as f32; natural.len()];
        }
        let stretch = available / total;
        return natural.iter().map(|width| width * stretch).collect();
    }
    let mut order: Vec<usize> = (0..natural.len()).collect();
    order.sort_by(|&a, &b| natural[a].total_cmp(&natural[b]));
    let mut widths = vec![0.0; natural.len()];
    let mut remaining = available;
    for (position, &column) in order.iter().enumerate() {
        let share = remaining / (order.len() - position) as f32;
        let width = natural[column].min(share);
        widths[column] = width;
        remaining -= width;
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::fit;

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn columns_that_fit_grow_in_proportion_to_the_page_width() {
        let widths = fit(&[10.0, 30.0], 80.0);
        assert!(
            close(widths[0], 20.0) && close(widths[1], 60.0),
            "{widths:?}"
        );
    }

    #[test]
    fn narrow_columns_keep_their_width_and_wide_ones_share_the_rest() {
        let widths = fit(&[20.0, 500.0, 30.0, 900.0], 250.0);
        assert!(close(widths[0], 20.0), "{widths:?}");
        assert!(close(widths[2], 30.0), "{widths:?}");
        assert!(
            close(widths[1], 100.0) && close(widths[3], 100.0),
            "{widths:?}"
        );
        assert!(close(widths.iter().sum(), 250.0));
    }

    #[test]
    fn empty_columns_share_the_width_evenly() {
        assert_eq!(fit(&[0.0, 0.0], 10.0), [5.0, 5.0]);
        assert!(fit(&[], 10.0).is_empty());
    }
}
