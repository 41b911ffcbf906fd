//! Grouping Accuracy of the template miner (default configuration) on the
//! Loghub-2k datasets. A line is correct iff the set of lines in its
//! predicted group equals the set of lines in its true group.

mod common;

use std::collections::HashMap;

use sentinel::logs::{Miner, MinerConfig};

fn grouping_accuracy(predicted: &[u64], truth: &[String]) -> f64 {
    let mut predicted_groups: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut true_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, (p, t)) in predicted.iter().zip(truth).enumerate() {
        predicted_groups.entry(*p).or_default().push(index);
        true_groups.entry(t.as_str()).or_default().push(index);
    }
    let mut correct = 0usize;
    for members in predicted_groups.values() {
        let truth_of_first = truth[members[0]].as_str();
        if true_groups[truth_of_first] == *members {
            correct += members.len();
        }
    }
    correct as f64 / truth.len().max(1) as f64
}

fn main() {
    let verbose = std::env::var_os("SENTINEL_GA_VERBOSE").is_some();
    let Some(datasets) = common::load_datasets() else {
        println!(
            "Loghub-2k data not found under {}/data/loghub_2k (set SENTINEL_SHARED); skipping.",
            common::shared_dir().display()
        );
        return;
    };
    println!(
        "{:<12} {:>6} {:>10} {:>8}",
        "dataset", "lines", "templates", "GA"
    );
    let mut total = 0.0;
    let mut lowest = f64::MAX;
    for dataset in &datasets {
        let mut miner = Miner::new(MinerConfig::default());
        let predicted: Vec<u64> = dataset
            .contents
            .iter()
            .map(|line| miner.add(line).id.0)
            .collect();
        let accuracy = grouping_accuracy(&predicted, &dataset.event_ids);
        total += accuracy;
        lowest = lowest.min(accuracy);
        println!(
            "{:<12} {:>6} {:>10} {:>8.4}",
            dataset.name,
            dataset.contents.len(),
            miner.template_count(),
            accuracy
        );
        if verbose {
            report_mismatches(&miner, dataset, &predicted);
        }
    }
    println!(
        "{:<12} {:>6} {:>10} {:>8.4}   (lowest {:.4})",
        "average",
        "",
        "",
        total / datasets.len() as f64,
        lowest
    );
}

/// Prints predicted groups that do not equal a true group (for analysis).
fn report_mismatches(miner: &Miner, dataset: &common::Dataset, predicted: &[u64]) {
    let mut groups: HashMap<u64, Vec<usize>> = HashMap::new();
    for (index, id) in predicted.iter().enumerate() {
        groups.entry(*id).or_default().push(index);
    }
    let mut truth_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, t) in dataset.event_ids.iter().enumerate() {
        truth_groups.entry(t.as_str()).or_default().push(index);
    }
    for (id, members) in &groups {
        let t = dataset.event_ids[members[0]].as_str();
        if truth_groups[t] != *members {
            let mut truths: Vec<&str> = members
                .iter()
                .map(|&i| dataset.event_ids[i].as_str())
                .collect();
            truths.sort();
            truths.dedup();
            println!(
                "  BAD {} n={} truths={:?} tpl={:?} ex={:?}",
                id,
                members.len(),
                truths,
                miner
                    .template(sentinel::logs::TemplateId(*id))
                    .unwrap_or(""),
                dataset.contents[members[0]]
            );
        }
    }
}
