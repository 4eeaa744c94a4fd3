//! Child processes the tests start (the real binary): waiting for them to exit.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Waits up to `timeout` for `child` to exit, checking every 50 ms of real time (a
/// process's exit is not on the test's clock). None if it is still running.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child's log (its stderr), collected line by line as it runs.
#[derive(Clone, Default)]
pub struct Log(std::sync::Arc<LogInner>);

#[derive(Default)]
struct LogInner {
    text: std::sync::Mutex<String>,
    /// Set once the child closed its stderr: the text is whole.
    closed: std::sync::Mutex<bool>,
    closing: std::sync::Condvar,
}

impl Log {
    /// The text so far.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, String> {
        self.0.text.lock().unwrap()
    }

    /// Waits (up to `timeout`) until the child closed its stderr, so that lines written
    /// just before it exited are in; false if it did not within `timeout`.
    pub fn wait_closed(&self, timeout: Duration) -> bool {
        let closed = self.0.closed.lock().unwrap();
        let (closed, _) = self
            .0
            .closing
            .wait_timeout_while(closed, timeout, |closed| !*closed)
            .unwrap();
        *closed
    }
}

/// Collects the child's stderr (its log) line by line.
pub fn capture_stderr(child: &mut Child) -> Log {
    use std::io::BufRead;
    let log = Log::default();
    let stderr = child.stderr.take().expect("stderr is piped");
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let mut text = sink.lock();
            text.push_str(&line);
            text.push('\n');
        }
        *sink.0.closed.lock().unwrap() = true;
        sink.0.closing.notify_all();
    });
    log
}

/// Sets the largest file `pid` may write: 0 fills its disk, `None` gives the space back.
pub fn limit_file_size(pid: u32, bytes: Option<u64>) {
    let limit = libc::rlimit {
        rlim_cur: bytes.unwrap_or(libc::RLIM_INFINITY),
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain system call on a child we own; both pointers are valid or null.
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// Sends SIGTERM to `child`, as systemd or docker stop it.
pub fn terminate(child: &Child) {
    // SAFETY: a signal to a child this test started and has not yet reaped.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0, "kill -TERM: {}", std::io::Error::last_os_error());
}

/// Waits up to `timeout` for `child` to exit, then for the rest of its log; if it does
/// not exit, kills it and fails the test with its log, so a hang names what the bot was
/// waiting for.
pub fn exit_within(child: &mut Child, log: &Log, timeout: Duration) -> ExitStatus {
    match wait_exit(child, timeout) {
        Some(status) => {
            log.wait_closed(Duration::from_secs(5));
            status
        }
        None => {
            let _ = child.kill();
            let _ = child.wait();
            log.wait_closed(Duration::from_secs(5));
            panic!(
                "the bot did not exit within {timeout:?}; its log:\n{}",
                log.lock()
            );
        }
    }
}

/// The real binary running the bot (`aftercare run`, long polling every second) against
/// the stand-in at `api_url`, with `extra` arguments; its log (info level, no colours) on
/// a pipe, collected into the returned `Log`. SIGXFSZ is ignored, so that a file-size
/// limit makes its writes fail (EFBIG) instead of killing it, as a full disk makes them
/// fail (ENOSPC).
pub fn spawn_bot(
    api_url: &str,
    db: &str,
    messages: &std::path::Path,
    extra: &[&str],
) -> (Child, Log) {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    let mut command = Command::new(env!("CARGO_BIN_EXE_aftercare"));
    command
        .env("TELOXIDE_TOKEN", super::fake_telegram::TOKEN)
        .env("TELOXIDE_API_URL", api_url)
        .env("DATABASE_URL", db)
        .env("AFTERCARE_MESSAGES", messages)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .args(["run", "--poll-timeout", "1s"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec only `signal`, which is async-signal-safe, runs.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut bot = command.spawn().unwrap();
    let log = capture_stderr(&mut bot);
    (bot, log)
}
