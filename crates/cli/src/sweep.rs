//! `neurolab sweep --link L --seeds 0..N --set key=a,b,c … --out DIR`: a grid of experiments
//! around one link, run locally in parallel (one `neurolab <lab> … --json` process per point),
//! resumable (a point whose JSONL is complete is kept and skipped), with a summary CSV of every
//! point's final numbers and a plot (SVG, through plotters) of one metric across the grid: mean
//! and spread (min–max) over the seeds. `--slurm` runs the points as a Slurm job array instead
//! (`sbatch --array`, one task per point running the same command) and gathers the same summary.

use crate::CliError;
use clap::{Arg, ArgAction, ArgMatches, Command};
use neurolab_core::link::LabLink;
use plotters::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Most points one sweep runs.
pub const MAX_POINTS: usize = 10_000;

pub fn command() -> Command {
    Command::new("sweep")
        .about("Run a grid of experiments around a link (seeds × values), in parallel and resumable, with a summary CSV and a plot")
        .arg(Arg::new("link").long("link").required_unless_present("slurm-task").value_name("URL").help("the experiment every point starts from"))
        .arg(Arg::new("seeds").long("seeds").value_name("A..B").help("seeds A, A+1, …, B−1 (default: the link's seed only)"))
        .arg(
            Arg::new("set")
                .long("set")
                .value_name("KEY=V1,V2,…")
                .action(ArgAction::Append)
                .help("a link key and its values; several --set make the grid their product"),
        )
        .arg(Arg::new("out").long("out").required_unless_present("slurm-task").value_name("DIR").help("one JSONL per point, summary.csv and the plot go here"))
        .arg(
            Arg::new("jobs")
                .long("jobs")
                .value_parser(clap::value_parser!(usize))
                .help("points run at once (default: the cores here)"),
        )
        .arg(
            Arg::new("metric")
                .long("metric")
                .default_value("test_acc")
                .help("the final number plotted across the grid (a key of the final JSON object)"),
        )
        .arg(
            Arg::new("slurm")
                .long("slurm")
                .action(ArgAction::SetTrue)
                .help("submit the points left as a Slurm job array (sbatch --array, one task per point), wait for it and gather the summary"),
        )
        .arg(
            Arg::new("slurm-args")
                .long("slurm-args")
                .value_name("ARGS")
                .allow_hyphen_values(true)
                .help("more sbatch options, split at spaces ('--partition=short --time=00:30:00 --account=lab')"),
        )
        .arg(
            Arg::new("no-wait")
                .long("no-wait")
                .action(ArgAction::SetTrue)
                .requires("slurm")
                .help("with --slurm: submit and return; run the same sweep again later to gather the summary"),
        )
        .arg(
            Arg::new("slurm-task")
                .long("slurm-task")
                .value_name("FILE:INDEX")
                .hide(true)
                .help("(run by a Slurm array task) run point INDEX of the task file"),
        )
        .arg(
            Arg::new("rest")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .help("more flags for every point's command (--backend …)"),
        )
}

/// One point of the grid: its overrides (link keys → values), in grid order.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub values: Vec<(String, String)>,
}

impl Point {
    /// A file-name-safe name: `wd=0.1,seed=2`.
    pub fn name(&self) -> String {
        self.values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "=,.-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

/// `A..B` → A, …, B−1.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, CliError> {
    let bad = || CliError::Usage(format!("--seeds wants A..B (e.g. 0..5), got '{text}'"));
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b): (u64, u64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if b <= a {
        return Err(bad());
    }
    Ok((a..b).collect())
}

/// The grid: every `--set` key's values crossed, then the seeds (innermost).
pub fn grid(sets: &[(String, Vec<String>)], seeds: &[u64]) -> Result<Vec<Point>, CliError> {
    let mut points = vec![Point { values: Vec::new() }];
    for (key, values) in sets {
        points = points
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut p = p.clone();
                    p.values.push((key.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    if !seeds.is_empty() {
        points = points
            .into_iter()
            .flat_map(|p| {
                seeds.iter().map(move |s| {
                    let mut p = p.clone();
                    p.values.push(("seed".into(), s.to_string()));
                    p
                })
            })
            .collect();
    }
    if points.len() > MAX_POINTS {
        return Err(CliError::Usage(format!(
            "the grid has {} points, more than the {MAX_POINTS} one sweep runs",
            points.len()
        )));
    }
    Ok(points)
}

fn parse_set(text: &str) -> Result<(String, Vec<String>), CliError> {
    let (k, v) = text
        .split_once('=')
        .ok_or_else(|| CliError::Usage(format!("--set wants KEY=V1,V2,…, got '{text}'")))?;
    let values: Vec<String> = v
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if k.is_empty() || values.is_empty() {
        return Err(CliError::Usage(format!(
            "--set wants KEY=V1,V2,…, got '{text}'"
        )));
    }
    Ok((k.to_string(), values))
}

/// The point's command line: the link as its lab's command with the point's values, `--json`,
/// then the extra flags.
fn point_args(link: &LabLink, point: &Point, rest: &[String], dir: &Path) -> Vec<String> {
    let mut args = crate::lab_args(link, &point.values);
    args.push("--json".into());
    args.push("--experiment-out".into());
    args.push(experiment_path(dir, point).display().to_string());
    args.extend(rest.iter().cloned());
    args
}

/// A point's experiment file (its protocol reports, for its curves).
fn experiment_path(dir: &Path, point: &Point) -> PathBuf {
    dir.join(format!("{}.experiment.json", point.name()))
}

/// `sweep.json`: the base link and every finished point's values, final numbers and curves
/// (the page draws the runs overlaid).
fn write_sweep(link: &LabLink, points: &[Point], dir: &Path, path: &Path) -> Result<(), CliError> {
    use neurolab_core::experiment::{Experiment, Sweep, SweepPoint};
    let mut done = Vec::new();
    for p in points {
        let Some(fin) = final_of(&dir.join(format!("{}.jsonl", p.name()))) else {
            continue;
        };
        let curves = std::fs::read_to_string(experiment_path(dir, p))
            .ok()
            .and_then(|t| Experiment::read(&t).ok())
            .and_then(|(e, l)| l.lab.curves_of(&e.reports).ok())
            .unwrap_or_default();
        done.push(SweepPoint {
            name: p.name(),
            values: p.values.clone(),
            fin,
            curves,
        });
    }
    let text = serde_json::to_string(&Sweep::new(link, done)).expect("a sweep serialises");
    std::fs::write(path, text)
        .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))
}

/// The final JSON object of a point's JSONL, if the point finished.
fn final_of(path: &Path) -> Option<serde_json::Map<String, Value>> {
    let text = std::fs::read_to_string(path).ok()?;
    let last: Value = serde_json::from_str(text.lines().last()?).ok()?;
    match last {
        Value::Object(m) if m.get("final") == Some(&Value::Bool(true)) => Some(m),
        _ => None,
    }
}

/// Runs one point with this executable, its JSONL written whole then renamed (an interrupted
/// point is run again); the error names the point.
fn run_point(exe: &Path, args: &[String], path: &Path, name: &str) -> Result<(), String> {
    let partial = path.with_extension("jsonl.part");
    match std::process::Command::new(exe).args(args).output() {
        Ok(o) if o.status.success() => std::fs::write(&partial, &o.stdout)
            .and_then(|()| std::fs::rename(&partial, path))
            .map_err(|e| format!("{name}: {e}")),
        Ok(o) => Err(format!(
            "{name}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// The points a Slurm array runs: one task per entry.
#[derive(serde::Serialize, serde::Deserialize)]
struct SlurmTask {
    name: String,
    args: Vec<String>,
    path: PathBuf,
}

/// Most tasks in one job array (Slurm's default `MaxArraySize` is 1001): a larger grid goes
/// as several arrays.
const ARRAY_MAX: usize = 1000;

/// `--slurm-task FILE:INDEX`: what one array task runs.
fn slurm_task(spec: &str) -> Result<(), CliError> {
    let (file, index) = spec
        .rsplit_once(':')
        .ok_or_else(|| CliError::Usage(format!("--slurm-task wants FILE:INDEX, got '{spec}'")))?;
    let index: usize = index
        .parse()
        .map_err(|_| CliError::Usage(format!("--slurm-task wants FILE:INDEX, got '{spec}'")))?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Io(format!("cannot read {file}: {e}")))?;
    let tasks: Vec<SlurmTask> = serde_json::from_str(&text)
        .map_err(|e| CliError::Io(format!("{file} is not a task file: {e}")))?;
    let task = tasks
        .get(index)
        .ok_or_else(|| CliError::Usage(format!("{file} has {} tasks, not {index}", tasks.len())))?;
    let exe = std::env::current_exe().map_err(|e| CliError::Io(e.to_string()))?;
    run_point(&exe, &task.args, &task.path, &task.name).map_err(CliError::Lab)
}

/// Submits `tasks` as job arrays of at most [`ARRAY_MAX`] tasks each, one `sbatch` per array
/// (waiting for all of them unless `no_wait`).
fn submit_slurm(
    out: &Path,
    tasks: &[SlurmTask],
    extra: &[String],
    no_wait: bool,
) -> Result<(), CliError> {
    let slurm = out.join("slurm");
    std::fs::create_dir_all(&slurm)
        .map_err(|e| CliError::Io(format!("cannot create {}: {e}", slurm.display())))?;
    let exe = std::env::current_exe().map_err(|e| CliError::Io(e.to_string()))?;
    let chunks: Vec<&[SlurmTask]> = tasks.chunks(ARRAY_MAX).collect();
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (c, chunk) in chunks.iter().enumerate() {
            let (slurm, exe, results) = (&slurm, &exe, &results);
            scope.spawn(move || {
                let file = slurm.join(format!("tasks-{c}.json"));
                let written = serde_json::to_string_pretty(chunk)
                    .map_err(|e| e.to_string())
                    .and_then(|t| std::fs::write(&file, t).map_err(|e| e.to_string()));
                let result = written.and_then(|()| {
                    let mut cmd = std::process::Command::new("sbatch");
                    cmd.arg("--parsable")
                        .arg(format!("--array=0-{}", chunk.len() - 1))
                        .arg("--job-name=neurolab-sweep")
                        .arg(format!("--output={}/%A_%a.log", slurm.display()));
                    if !no_wait {
                        cmd.arg("--wait");
                    }
                    cmd.args(extra).arg(format!(
                        "--wrap=exec '{}' sweep --slurm-task '{}:'\"$SLURM_ARRAY_TASK_ID\"",
                        exe.display(),
                        file.display()
                    ));
                    let o = cmd.output().map_err(|e| {
                        format!("cannot run sbatch ({e}): is Slurm installed here?")
                    })?;
                    let job = String::from_utf8_lossy(&o.stdout).trim().to_string();
                    // With --wait, sbatch exits with the highest task's code: failed points are
                    // named from their files below, so only a submission without a job id fails.
                    if job.is_empty() {
                        return Err(format!(
                            "sbatch failed: {}",
                            String::from_utf8_lossy(&o.stderr).trim()
                        ));
                    }
                    Ok(job)
                });
                results.lock().unwrap().push(result);
            });
        }
    });
    for result in results.into_inner().unwrap() {
        let job = result.map_err(CliError::Lab)?;
        eprintln!(
            "Slurm job {job}: {} (logs in {})",
            if no_wait { "submitted" } else { "finished" },
            slurm.display()
        );
    }
    Ok(())
}

pub fn run(m: &ArgMatches) -> Result<(), CliError> {
    if let Some(spec) = m.get_one::<String>("slurm-task") {
        return slurm_task(spec);
    }
    let text = m.get_one::<String>("link").map_or("", String::as_str);
    let fragment = text.split_once('#').map_or(text, |(_, f)| f);
    let link = LabLink::decode(fragment)
        .map_err(|e| CliError::Usage(format!("the link does not open: {e}")))?;
    let keys: Vec<&str> = link
        .configs
        .pairs(link.lab)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let sets = m
        .get_many::<String>("set")
        .into_iter()
        .flatten()
        .map(|s| parse_set(s))
        .collect::<Result<Vec<_>, _>>()?;
    for (k, _) in &sets {
        if !keys.contains(&k.as_str()) || k == "seed" {
            return Err(CliError::Usage(format!(
                "--set {k}: not a key of the {} lab's link (seeds go in --seeds); its keys: {}",
                link.lab.name(),
                keys.join(", ")
            )));
        }
    }
    let seeds = match m.get_one::<String>("seeds") {
        Some(s) => parse_seeds(s)?,
        None => Vec::new(),
    };
    let points = grid(&sets, &seeds)?;
    let out = PathBuf::from(m.get_one::<String>("out").expect("required"));
    let dir = out.join("points");
    std::fs::create_dir_all(&dir)
        .map_err(|e| CliError::Io(format!("cannot create {}: {e}", dir.display())))?;
    // Array tasks may start elsewhere: they get absolute paths.
    let out = out
        .canonicalize()
        .map_err(|e| CliError::Io(format!("cannot resolve {}: {e}", out.display())))?;
    let dir = out.join("points");
    let rest: Vec<String> = m
        .get_many::<String>("rest")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    let jobs = m
        .get_one::<usize>("jobs")
        .copied()
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let metric = m
        .get_one::<String>("metric")
        .cloned()
        .unwrap_or_else(|| "test_acc".into());

    let todo: Vec<&Point> = points
        .iter()
        .filter(|p| final_of(&dir.join(format!("{}.jsonl", p.name()))).is_none())
        .collect();
    eprintln!(
        "{} points: {} done before, {} to run, {}",
        points.len(),
        points.len() - todo.len(),
        todo.len(),
        if m.get_flag("slurm") {
            "as a Slurm job array".to_string()
        } else {
            format!("{jobs} at a time")
        }
    );
    let exe = std::env::current_exe().map_err(|e| CliError::Io(e.to_string()))?;
    let failures = Mutex::new(Vec::new());
    let path_of = |p: &Point| dir.join(format!("{}.jsonl", p.name()));
    if m.get_flag("slurm") {
        let tasks: Vec<SlurmTask> = todo
            .iter()
            .map(|p| SlurmTask {
                name: p.name(),
                args: point_args(&link, p, &rest, &dir),
                path: path_of(p),
            })
            .collect();
        let extra: Vec<String> = m
            .get_one::<String>("slurm-args")
            .map(|a| a.split_whitespace().map(String::from).collect())
            .unwrap_or_default();
        if !tasks.is_empty() {
            submit_slurm(&out, &tasks, &extra, m.get_flag("no-wait"))?;
        }
        if m.get_flag("no-wait") && !tasks.is_empty() {
            return Ok(());
        }
        for p in &todo {
            if final_of(&path_of(p)).is_none() {
                failures.lock().unwrap().push(format!(
                    "{}: no finished JSONL (see its log in {})",
                    p.name(),
                    out.join("slurm").display()
                ));
            }
        }
    } else {
        run_local(&exe, &link, &todo, &rest, jobs, &dir, &failures);
    }
    let rows = summary(&points, &dir, &out.join("summary.csv"))?;
    write_sweep(&link, &points, &dir, &out.join("sweep.json"))?;
    plot(
        &points,
        &rows,
        &sets,
        &metric,
        &out.join(format!("{metric}.svg")),
    )?;
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "wrote {}, {} and {}",
        out.join("summary.csv").display(),
        out.join("sweep.json").display(),
        out.join(format!("{metric}.svg")).display()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::Lab(format!(
            "{} points failed:\n{}",
            failures.len(),
            failures.join("\n")
        )))
    }
}

/// Runs `todo` here, `jobs` at a time, with a progress bar.
fn run_local(
    exe: &Path,
    link: &LabLink,
    todo: &[&Point],
    rest: &[String],
    jobs: usize,
    dir: &Path,
    failures: &Mutex<Vec<String>>,
) {
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(todo.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(point) = todo.get(i) else { break };
                let args = point_args(link, point, rest, dir);
                let path = dir.join(format!("{}.jsonl", point.name()));
                if let Err(e) = run_point(exe, &args, &path, &point.name()) {
                    failures.lock().unwrap().push(e);
                }
                let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                let width = 30;
                let filled = n * width / todo.len().max(1);
                eprint!(
                    "\r[{}{}] {n}/{} points",
                    "=".repeat(filled),
                    " ".repeat(width - filled),
                    todo.len()
                );
                let _ = std::io::stderr().flush();
            });
        }
    });
    if !todo.is_empty() {
        eprintln!();
    }
}

/// `summary.csv`: one row per finished point — its values, then every number of its final
/// object (columns in first-seen order).
fn summary(
    points: &[Point],
    dir: &Path,
    path: &Path,
) -> Result<Vec<Option<serde_json::Map<String, Value>>>, CliError> {
    let rows: Vec<_> = points
        .iter()
        .map(|p| final_of(&dir.join(format!("{}.jsonl", p.name()))))
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for row in rows.iter().flatten() {
        for (k, v) in row {
            if v.is_number() && !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let keys: Vec<String> = points.first().map_or(Vec::new(), |p| {
        p.values.iter().map(|(k, _)| k.clone()).collect()
    });
    let mut csv = String::from("point");
    for k in keys.iter().chain(&columns) {
        csv.push(',');
        csv.push_str(k);
    }
    csv.push('\n');
    for (p, row) in points.iter().zip(&rows) {
        let Some(row) = row else { continue };
        csv.push_str(&p.name().replace(',', ";"));
        for (_, v) in &p.values {
            csv.push(',');
            csv.push_str(v);
        }
        for c in &columns {
            csv.push(',');
            if let Some(v) = row.get(c).filter(|v| v.is_number()) {
                csv.push_str(&v.to_string());
            }
        }
        csv.push('\n');
    }
    std::fs::write(path, csv)
        .map_err(|e| CliError::Io(format!("cannot write {}: {e}", path.display())))?;
    Ok(rows)
}

/// The metric across the grid: one column per combination of the `--set` values (seeds
/// pooled), its mean over seeds as a line and its min–max as a bar.
fn plot(
    points: &[Point],
    rows: &[Option<serde_json::Map<String, Value>>],
    sets: &[(String, Vec<String>)],
    metric: &str,
    path: &Path,
) -> Result<(), CliError> {
    let mut groups: BTreeMap<usize, (String, Vec<f64>)> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (p, row) in points.iter().zip(rows) {
        let label = p
            .values
            .iter()
            .filter(|(k, _)| sets.iter().any(|(s, _)| s == k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        let i = match order.iter().position(|l| *l == label) {
            Some(i) => i,
            None => {
                order.push(label.clone());
                order.len() - 1
            }
        };
        let entry = groups.entry(i).or_insert_with(|| (label, Vec::new()));
        if let Some(v) = row
            .as_ref()
            .and_then(|r| r.get(metric))
            .and_then(Value::as_f64)
        {
            if v.is_finite() {
                entry.1.push(v);
            }
        }
    }
    let stats: Vec<(usize, String, f64, f64, f64)> = groups
        .into_iter()
        .filter(|(_, (_, v))| !v.is_empty())
        .map(|(i, (label, v))| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (i, label, mean, lo, hi)
        })
        .collect();
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = order.len().max(1);
        let lo = stats.iter().map(|s| s.3).fold(f64::INFINITY, f64::min);
        let hi = stats.iter().map(|s| s.4).fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
            (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        } else if lo.is_finite() {
            (lo - 1.0, lo + 1.0)
        } else {
            (0.0, 1.0)
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{metric}: mean and min–max over seeds"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, lo..hi)?;
        let labels = order.clone();
        chart
            .configure_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(metric)
            .draw()?;
        let blue = RGBColor(37, 99, 235);
        chart.draw_series(stats.iter().map(|(i, _, _, lo, hi)| {
            PathElement::new(
                vec![(*i as f64, *lo), (*i as f64, *hi)],
                blue.stroke_width(2),
            )
        }))?;
        chart.draw_series(LineSeries::new(
            stats.iter().map(|(i, _, m, _, _)| (*i as f64, *m)),
            blue,
        ))?;
        chart.draw_series(
            stats
                .iter()
                .map(|(i, _, m, _, _)| Circle::new((*i as f64, *m), 4, blue.filled())),
        )?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| CliError::Io(format!("cannot draw {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_crosses_the_values_and_the_seeds() {
        let sets = vec![("wd".to_string(), vec!["0.1".into(), "1".into()])];
        let g = grid(&sets, &parse_seeds("0..3").unwrap()).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[0].name(), "wd=0.1,seed=0");
        assert_eq!(g[5].name(), "wd=1,seed=2");
        assert!(parse_seeds("3..1").is_err());
        assert!(parse_set("wd").is_err());
        assert_eq!(grid(&[], &[]).unwrap().len(), 1);
    }
}
