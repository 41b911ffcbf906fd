//! `sentinel logs`: the template miner from the command line. `templates` prints one CSV row per
//! input line; `learn` teaches a source's known templates to the store; `new` shows what in a
//! file Sentinel has never seen on that source (what `new_error` would page for).

use crate::logs::{Miner, MinerConfig, write_templates_csv};
use crate::store::Store;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

fn open_input(file: &Path) -> Result<Box<dyn BufRead>, String> {
    if file == Path::new("-") {
        return Ok(Box::new(BufReader::new(std::io::stdin())));
    }
    std::fs::File::open(file)
        .map(|f| Box::new(BufReader::with_capacity(1 << 20, f)) as Box<dyn BufRead>)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))
}

/// `sentinel logs templates FILE`: CSV `line,template_id,template` to stdout.
pub fn templates(file: &Path) -> i32 {
    let input = match open_input(file) {
        Ok(input) => input,
        Err(message) => {
            eprintln!("{message}");
            return 1;
        }
    };
    let stdout = std::io::stdout();
    let output = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    match write_templates_csv(input, output) {
        Ok(_) => 0,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(error) => {
            eprintln!("cannot write templates: {error}");
            1
        }
    }
}

/// Reads every line of `file` as raw bytes (invalid UTF-8 is decoded lossily by the miner).
fn for_each_line(file: &Path, mut each: impl FnMut(&[u8])) -> Result<u64, String> {
    let mut input = open_input(file)?;
    let mut line = Vec::new();
    let mut count = 0;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return Ok(count),
            Ok(_) => {
                while matches!(line.last(), Some(b'\n' | b'\r')) {
                    line.pop();
                }
                each(&line);
                count += 1;
            }
            Err(error) => return Err(format!("cannot read {}: {error}", file.display())),
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A miner that knows what the store knows of `source`.
async fn restored_miner(store: &Store, source: &str) -> Result<Miner, i32> {
    let mut miner = Miner::new(MinerConfig::default());
    match store.load_templates(source).await {
        Ok(records) => {
            miner.restore(records);
            Ok(miner)
        }
        Err(error) => {
            eprintln!("{error}");
            Err(crate::commands::EXIT_CANNOT_RUN)
        }
    }
}

/// `sentinel logs learn FILE --source NAME`: adds the file's templates to what the store knows.
pub async fn learn(store: &Store, source: &str, file: &Path) -> i32 {
    let mut miner = match restored_miner(store, source).await {
        Ok(miner) => miner,
        Err(code) => return code,
    };
    let before = miner.template_count();
    let at = now_ms();
    let lines = match for_each_line(file, |line| {
        miner.add_bytes_at(line, at);
    }) {
        Ok(lines) => lines,
        Err(message) => {
            eprintln!("{message}");
            return 1;
        }
    };
    if let Err(error) = store.save_templates(source, &miner.snapshot()).await {
        eprintln!("{error}");
        return 2;
    }
    let after = miner.template_count();
    println!(
        "{source}: read {lines} lines; {after} templates known ({} new)",
        after.saturating_sub(before)
    );
    0
}

/// `sentinel logs new FILE --source NAME`: templates in the file that the source never had.
pub async fn new(store: &Store, source: &str, file: &Path) -> i32 {
    let mut miner = match restored_miner(store, source).await {
        Ok(miner) => miner,
        Err(code) => return code,
    };
    let known: std::collections::HashSet<u64> = miner.snapshot().iter().map(|r| r.id).collect();
    let mut unseen: BTreeMap<u64, (u64, String)> = BTreeMap::new();
    let at = now_ms();
    let result = for_each_line(file, |line| {
        let matched = miner.add_bytes_at(line, at);
        if !known.contains(&matched.id.0) {
            let entry = unseen
                .entry(matched.id.0)
                .or_insert_with(|| (0, String::from_utf8_lossy(line).into_owned()));
            entry.0 += 1;
        }
    });
    if let Err(message) = result {
        eprintln!("{message}");
        return 1;
    }
    if unseen.is_empty() {
        println!("{source}: nothing new");
        return 0;
    }
    let templates = if unseen.len() == 1 {
        "template"
    } else {
        "templates"
    };
    println!("{source}: {} {templates} never seen before", unseen.len());
    for (id, (count, example)) in &unseen {
        let template = miner.template(crate::logs::TemplateId(*id)).unwrap_or("");
        let template = crate::logs::readable::readable_template(template, example);
        println!("  {count:>6} × {template}\n         e.g. {example}");
    }
    0
}
