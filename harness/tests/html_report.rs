//! The HTML report in a real browser: a page rendered from constructed outcomes (a pass, an
//! OK, a BUG, a flaky 3 of 5, a FAIL and an n/a pair) is opened from a `file://` URL in
//! headless chromium, driven through the DevTools protocol (`headless_chrome`), and checked:
//! every cell's class, the tooltips, a filter, and that a click on the FAIL cell opens its
//! evidence and a replay that plays its recording. A screenshot goes to
//! `target/tmp/html-report/report.png`.
//!
//! The click is a real one: `Element::click` scrolls the cell into view and sends
//! `Input.dispatchMouseEvent` press and release at its centre, so the page's own listener
//! handles it as it would a user's. Chromium is started here, in its own process group, and
//! that group is killed when the test ends (whatever happens). Where chromium is absent the
//! test is ignored with that reason; under `CI=true` it fails instead.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use headless_chrome::Browser;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use jobcheck::procfs::{Proc, ProcState, SESSION_VAR};
use jobcheck::report::html::{self, class};
use jobcheck::report::{Pair, RunInfo, RunResult, ScenarioInfo, ShellInfo};
use jobcheck::scenario::Verdict;
use jobcheck::session::{Evidence, StepRef};
use jobcheck::teardown;
use jobcheck::transcript::{Event, Kind};
use jobcheck::{Failure, Pgid, Pid};
use libtest_mimic::{Arguments, Trial};

const TEST: &str = "html_report::opens_in_chromium";

fn main() {
    let args = Arguments::from_args();
    let trial = match find_chromium() {
        Some(bin) => Trial::test(TEST, move || in_chromium(&bin).map_err(Into::into)),
        None if std::env::var("CI").as_deref() == Ok("true") => Trial::test(TEST, || {
            Err(
                "chromium is not installed, and CI=true needs this test to run \
                 (ci/install-deps installs it)"
                    .into(),
            )
        }),
        None => {
            eprintln!(
                "{TEST}: ignored: chromium is not installed (sudo ci/install-deps installs it)"
            );
            Trial::test(TEST, || Ok(())).with_ignored_flag(true)
        }
    };
    let bounded = Trial::test("html_report::page_of_100_failures_is_bounded", || {
        bounded_page().map_err(Into::into)
    });
    libtest_mimic::run(&args, vec![trial, bounded]).exit();
}

/// 100 failing pairs, each with a recording of over 1 MB: the page stays under 30 MB, each
/// embedded recording within its 256 KB and still ends with the failure's marker.
fn bounded_page() -> Result<(), String> {
    let big = |name: &str| {
        let mut f = failure("expected prompt 2 within 5 s, but the shell printed nothing");
        let e = f.evidence.as_mut().unwrap();
        for i in 0..10_000u64 {
            e.transcript.push(Event {
                t: Duration::from_millis(1000 + i),
                kind: Kind::Out,
                bytes: format!("{name} output line {i:05} {}\r\n", "y".repeat(80)).into_bytes(),
            });
        }
        f
    };
    let pairs: Vec<Pair> = (0..100)
        .map(|i| Pair {
            scenario: format!("posix/s{i:03}"),
            shell: "bash".into(),
            verdict: None,
            skipped: None,
            runs: vec![run(false, Some(big(&format!("s{i:03}"))))],
        })
        .collect();
    let scenarios: Vec<ScenarioInfo> = pairs
        .iter()
        .map(|p| ScenarioInfo {
            name: p.scenario.clone(),
            title: "t".into(),
            group: None,
        })
        .collect();
    let shells = vec![ShellInfo {
        name: "bash".into(),
        version: Ok("5.2".into()),
    }];
    let page = html::html(&shells, &scenarios, &pairs, &RunInfo::default());
    assert!(page.len() < 30 << 20, "page of {} bytes", page.len());
    let casts: Vec<&str> = page
        .split("<script type=\"application/x-asciicast\"")
        .skip(1)
        .map(|s| {
            s.split_once('>')
                .unwrap()
                .1
                .split("</script>")
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(casts.len(), 100);
    for cast in casts {
        assert!(cast.len() <= html::RECORDING_LIMIT, "{}", cast.len());
        let last = cast.trim_end().lines().last().unwrap();
        assert!(last.contains("FAIL at fixtures/posix/fail.jc:7"), "{last}");
        assert!(cast.contains("output line 09999"));
    }
    Ok(())
}

/// `$CHROMIUM`, else `chromium` on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file())
}

/// Headless chromium in a session of its own, tagged like a jobcheck session: torn down by
/// [`teardown::kill_session`] (every process of its session or carrying its tag, by group and
/// pid), and swept by a later run if this one is killed before its `Drop`.
struct Chromium {
    child: Child,
    tag: String,
    /// The browser's DevTools WebSocket URL.
    ws: String,
    _profile: tempfile::TempDir,
}

impl Chromium {
    fn start(bin: &Path) -> Result<Chromium, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let tag = teardown::new_tag();
        let mut cmd = Command::new(bin);
        cmd.args([
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-breakpad",
            "--disable-crash-reporter",
            "--remote-debugging-port=0",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
        if nix::unistd::geteuid().is_root() {
            cmd.arg("--no-sandbox");
        }
        cmd.arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env(SESSION_VAR, &tag);
        // SAFETY: setsid is async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                nix::unistd::setsid()?;
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel();
        // Reads chromium's stderr to its end (so it never blocks on a full pipe), handing on
        // the DevTools URL.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let mut chromium = Chromium {
            child,
            tag,
            ws: String::new(),
            _profile: profile,
        };
        chromium.ws = rx
            .recv_timeout(Duration::from_secs(60))
            .map_err(|_| "chromium did not print its DevTools URL within 60 s".to_string())?;
        Ok(chromium)
    }
}

impl Chromium {
    /// Kill every process of it; what was still alive after 10 s (empty: all gone).
    fn stop(&mut self) -> Vec<Proc> {
        let sid = Pid::new(self.child.id() as i32).expect("a child's pid is positive");
        let left = teardown::kill_session(sid, &self.tag, Duration::from_secs(10));
        let _ = self.child.wait();
        left
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

fn run(passed: bool, failure: Option<Failure>) -> RunResult {
    RunResult {
        passed,
        millis: 120.0,
        failure: failure.as_ref().map(|f| f.to_string()),
        new_snapshot: false,
        evidence: failure.map(Box::new),
    }
}

/// A failure with a session behind it: the shell stopped `sleep 100` but no prompt came.
fn failure(sentence: &str) -> Failure {
    let out = |ms: u64, s: &str| Event {
        t: Duration::from_millis(ms),
        kind: Kind::Out,
        bytes: s.as_bytes().to_vec(),
    };
    let shell = Pid::new(4242).unwrap();
    Failure {
        sentence: sentence.into(),
        step: Some(Box::new(StepRef {
            file: "fixtures/posix/fail.jc".into(),
            line: 7,
            text: "wait prompt".into(),
        })),
        evidence: Some(Box::new(Evidence {
            shell: "bash".into(),
            session: "posix__fail@bash.r1".into(),
            pid: shell,
            tag: "jc-test".into(),
            last_prompt: 1,
            foreground: Pgid::new(4300),
            shell_exit: None,
            transcript: vec![
                out(0, "$ "),
                Event {
                    t: Duration::from_millis(50),
                    kind: Kind::In,
                    bytes: b"sleep 100\r".to_vec(),
                },
                out(60, "sleep 100\r\n"),
                out(900, "^Z\r\n[1]+  Stopped                 sleep 100\r\n"),
            ],
            screen: "$ sleep 100\n^Z\n[1]+  Stopped                 sleep 100".into(),
            processes: vec![Proc {
                pid: Pid::new(4300).unwrap(),
                ppid: Some(shell),
                pgid: Pgid::new(4300),
                sid: Some(shell),
                tpgid: Pgid::new(4300),
                state: ProcState::Stopped,
                starttime: 1,
                comm: "sleep".into(),
                cmdline: "sleep 100".into(),
            }],
            rows: 24,
            cols: 80,
            term: "xterm-256color".into(),
        })),
        detail: None,
        recording: Some("target/jobcheck/posix__fail@bash.r1.cast".into()),
    }
}

/// The constructed outcomes, and the class each cell must have.
fn outcomes() -> (Vec<Pair>, Vec<(&'static str, &'static str)>) {
    let pair = |scenario: &str, verdict: Option<(Verdict, &str)>, runs: Vec<RunResult>| Pair {
        scenario: scenario.into(),
        shell: "bash".into(),
        verdict: verdict.map(|(v, r)| (v, r.to_string())),
        skipped: None,
        runs,
    };
    let passes = || (0..5).map(|_| run(true, None)).collect::<Vec<_>>();
    let flaky = [true, false, true, false, true]
        .iter()
        .map(|&ok| run(ok, (!ok).then(|| failure("expected a prompt, saw none"))))
        .collect();
    let fails = (0..5)
        .map(|_| {
            run(
                false,
                Some(failure(
                    "expected prompt 2 within 5 s, but the shell printed nothing after ^Z",
                )),
            )
        })
        .collect();
    let bugs = (0..5)
        .map(|_| run(false, Some(failure("expected the job stopped"))))
        .collect();
    let mut na = pair("posix/pass", None, Vec::new());
    na.shell = "zsh".into();
    na.skipped = Some("zsh is not installed".into());
    let pairs = vec![
        pair("posix/pass", None, passes()),
        pair(
            "posix/ok",
            Some((Verdict::Ok, "prints its own job notice")),
            passes(),
        ),
        pair(
            "posix/bug",
            Some((Verdict::Bug, "loses the stopped job (reported upstream)")),
            bugs,
        ),
        pair("posix/flaky", None, flaky),
        pair("posix/fail", None, fails),
        na,
    ];
    let want = vec![
        ("posix/pass::bash", "pass"),
        ("posix/ok::bash", "ok"),
        ("posix/bug::bash", "bug"),
        ("posix/flaky::bash", "flaky"),
        ("posix/fail::bash", "fail"),
        ("posix/pass::zsh", "na"),
    ];
    (pairs, want)
}

fn page() -> String {
    let shells = vec![
        ShellInfo {
            name: "bash".into(),
            version: Ok("GNU bash, version 5.2.15".into()),
        },
        ShellInfo {
            name: "zsh".into(),
            version: Err("zsh is not installed".into()),
        },
    ];
    let scenario = |name: &str, group: &str| ScenarioInfo {
        name: name.into(),
        title: format!("title of {name}"),
        group: Some(group.into()),
    };
    let scenarios = vec![
        scenario("posix/pass", "A. Foreground"),
        scenario("posix/ok", "A. Foreground"),
        scenario("posix/bug", "B. Stop"),
        scenario("posix/flaky", "B. Stop"),
        scenario("posix/fail", "B. Stop"),
    ];
    let info = RunInfo {
        command: "jobcheck run --repeat 5".into(),
        repeat: 5,
        seconds: 3.0,
    };
    html::html(&shells, &scenarios, &outcomes().0, &info)
}

/// Evaluate `js` (an expression giving a string) in the page.
fn eval(tab: &headless_chrome::Tab, js: &str) -> Result<String, String> {
    let v = tab.evaluate(js, false).map_err(|e| format!("{js}: {e}"))?;
    v.value
        .and_then(|v| v.as_str().map(String::from))
        .ok_or_else(|| format!("{js}: gave no string"))
}

/// Poll `js` until it gives `"yes"`, for at most 20 s.
fn wait_for(tab: &headless_chrome::Tab, what: &str, js: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = eval(tab, js)?;
        if got == "yes" {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("within 20 s, {what}: last saw {got}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn in_chromium(bin: &Path) -> Result<(), String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let file = dir.join(html::FILE_NAME);
    std::fs::write(&file, page()).map_err(|e| e.to_string())?;
    let chromium = Chromium::start(bin)?;
    let browser = Browser::connect(chromium.ws.clone()).map_err(|e| e.to_string())?;
    let tab = browser.new_tab().map_err(|e| e.to_string())?;
    tab.set_default_timeout(Duration::from_secs(20));
    tab.navigate_to(&format!("file://{}", file.display()))
        .and_then(|t| t.wait_until_navigated())
        .map_err(|e| e.to_string())?;
    tab.wait_for_element("#matrix").map_err(|e| e.to_string())?;

    // Every cell's class, as the page has it, against the class each outcome must give.
    let cells = eval(
        &tab,
        "JSON.stringify(Array.from(document.querySelectorAll('#matrix td.cell'))
           .map(c => [c.dataset.name || '', c.className, c.textContent, c.title]))",
    )?;
    let cells: Vec<(String, String, String, String)> =
        serde_json::from_str(&cells).map_err(|e| e.to_string())?;
    let (pairs, want) = outcomes();
    // 5 scenarios x 2 shells; the cells of pairs not in the run are n/a.
    assert_eq!(cells.len(), 10, "{cells:?}");
    for c in cells.iter().filter(|c| c.0.is_empty()) {
        assert_eq!(c.1, "cell na", "{c:?}");
    }
    for (name, class_name) in &want {
        let cell = cells
            .iter()
            .find(|c| c.0 == *name)
            .ok_or_else(|| format!("no cell for {name}: {cells:?}"))?;
        assert_eq!(cell.1, format!("cell {class_name}"), "{name}");
        let pair = pairs
            .iter()
            .find(|p| format!("{}::{}", p.scenario, p.shell) == *name);
        assert_eq!(class(&pair.unwrap().cell()), *class_name);
    }
    let by_name = |n: &str| cells.iter().find(|c| c.0 == n).unwrap();
    assert!(by_name("posix/flaky::bash").2.starts_with("flaky 3 of 5"));
    assert_eq!(
        by_name("posix/bug::bash").3,
        "BUG: loses the stopped job (reported upstream)"
    );
    assert_eq!(by_name("posix/pass::zsh").3, "n/a: zsh is not installed");
    let header = eval(&tab, "document.querySelector('#matrix thead').innerText")?;
    assert!(header.contains("GNU bash, version 5.2.15"), "{header}");

    // The FAIL cell opens its evidence, and its replay plays the recording.
    tab.find_element("td[data-name='posix/fail::bash']")
        .and_then(|e| e.click().map(|_| ()))
        .map_err(|e| e.to_string())?;
    let section = "document.querySelector('#panel section:not([hidden])')";
    wait_for(
        &tab,
        "the FAIL cell opens its evidence",
        &format!(
            "!document.querySelector('#panel').hidden && {section} && {section}.dataset.name === 'posix/fail::bash' ? 'yes' : String({section} && {section}.dataset.name)"
        ),
    )?;
    let text = eval(&tab, &format!("{section}.innerText"))?;
    for want in [
        "expected prompt 2 within 5 s, but the shell printed nothing after ^Z",
        "fixtures/posix/fail.jc:7: wait prompt",
        "final screen",
        "processes",
        "sleep 100",
        "run 5 failed",
    ] {
        assert!(text.contains(want), "evidence lacks {want:?}:\n{text}");
    }
    wait_for(
        &tab,
        "the replay shows the recording's output",
        &format!(
            "(t => t && t.innerText.includes('Stopped') ? 'yes' : String(t && t.innerText))({section}.querySelector('.replay .ap-term'))"
        ),
    )?;

    // The filter "only FAIL / flaky / BUG" hides the rows of passes.
    tab.find_element("#only-bad")
        .and_then(|e| e.click().map(|_| ()))
        .map_err(|e| e.to_string())?;
    let rows = eval(
        &tab,
        "JSON.stringify(Array.from(document.querySelectorAll('#matrix tr.scenario'))
           .filter(r => !r.hidden).map(r => r.querySelector('th').innerText))",
    )?;
    assert_eq!(rows, r#"["posix/bug","posix/flaky","posix/fail"]"#);

    let png = tab
        .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
        .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("report.png"), png).map_err(|e| e.to_string())?;
    drop(tab);
    drop(browser);
    let mut chromium = chromium;
    let left = chromium.stop();
    assert!(left.is_empty(), "chromium left processes behind: {left:?}");
    Ok(())
}
