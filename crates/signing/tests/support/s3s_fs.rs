//! s3s-fs (the `s3s` crate's file-system S3 server) on 127.0.0.1, for tests that need a real
//! S3 implementation: installed by `cargo xtask setup` (`EDGEWARD_S3S_FS` names it); a test
//! that needs it fails without it rather than skipping.

use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// s3s-fs serving a temporary directory; killed (by pid) when dropped.
pub(crate) struct S3sFs {
    child: Child,
    pub(crate) addr: SocketAddr,
    _root: tempfile::TempDir,
}

impl S3sFs {
    /// Starts s3s-fs verifying SigV4 with `keys` (access key ID, secret), or with no
    /// authentication of its own (every request anonymous) when `None`; returns once it
    /// listens.
    pub(crate) fn start(keys: Option<(&str, &str)>) -> Self {
        let binary = std::env::var("EDGEWARD_S3S_FS").unwrap_or_else(|_| {
            panic!("EDGEWARD_S3S_FS is not set: run `cargo xtask test`, or set it to target/tools/bin/s3s-fs (`cargo xtask setup` installs it)")
        });
        assert!(
            std::path::Path::new(&binary).exists(),
            "EDGEWARD_S3S_FS={binary} does not exist (run `cargo xtask setup`)"
        );
        let root = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = Command::new(&binary);
        command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
        if let Some((access_key, secret_key)) = keys {
            command.args(["--access-key", access_key, "--secret-key", secret_key]);
        }
        let child = command
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
        let server = Self {
            child,
            addr,
            _root: root,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl S3sFs {
    /// The directory it serves: a bucket is a directory in it, an object a file.
    pub(crate) fn root(&self) -> &std::path::Path {
        self._root.path()
    }
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
