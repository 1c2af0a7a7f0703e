//! A real sync server for end-to-end tests: in this process, on a loopback port, with a
//! temporary SQLite database, stoppable and restartable on the same address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use server::{AppState, Config};
use tempfile::TempDir;

/// The organisation every end-to-end test uses.
pub const ORG: &str = r#"
[[territory]]
code = "CN"
name = "公司总部"
[[territory]]
code = "EAST"
name = "华东大区"
parent = "CN"
[[territory]]
code = "EAST-SH"
name = "上海办事处"
parent = "EAST"
[[territory]]
code = "EAST-HZ"
name = "杭州办事处"
parent = "EAST"
[[territory]]
code = "SOUTH"
name = "华南大区"
parent = "CN"
[[territory]]
code = "SOUTH-GZ"
name = "广州办事处"
parent = "SOUTH"

[[user]]
name = "zhang.wei"
role = "salesperson"
territory = "EAST-SH"
password = "pw-zhang"
[[user]]
name = "li.na"
role = "salesperson"
territory = "EAST-SH"
password = "pw-li"
[[user]]
name = "chen.hz"
role = "salesperson"
territory = "EAST-HZ"
password = "pw-chen"
[[user]]
name = "wang.gz"
role = "salesperson"
territory = "SOUTH-GZ"
password = "pw-wang"
[[user]]
name = "east.boss"
role = "large_region_manager"
territory = "EAST"
password = "pw-boss"
[[user]]
name = "hq"
role = "head_office"
territory = "CN"
password = "pw-hq"
"#;

/// A running (or stopped) server.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    dir: Dir,
    running: Option<Running>,
    /// The settings it runs with (its database path aside).
    settings: Config,
}

/// Where the server's database lives: a temporary directory removed afterwards, or one kept.
enum Dir {
    Temp(TempDir),
    Kept(PathBuf),
}

impl Dir {
    fn path(&self) -> &std::path::Path {
        match self {
            Dir::Temp(dir) => dir.path(),
            Dir::Kept(path) => path,
        }
    }
}

struct Running {
    runtime: tokio::runtime::Runtime,
    stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    /// Starts a server with [`ORG`] imported, on a free loopback port.
    pub fn start() -> TestServer {
        TestServer::start_with(Config::default())
    }

    /// Starts a server like [`TestServer::start`] with these settings (e.g. a larger
    /// `pull_budget_max`); their database path is replaced by the test's own.
    pub fn start_with(settings: Config) -> TestServer {
        let dir = TempDir::new().expect("temporary directory");
        TestServer::launch(Dir::Temp(dir), "127.0.0.1:0", ORG, settings).expect("server starts")
    }

    /// Starts a server whose database is kept in `dir`, listening on `listen`, with the
    /// organisation `org` (TOML) imported.
    pub fn start_in(dir: PathBuf, listen: &str, org: &str) -> anyhow::Result<TestServer> {
        std::fs::create_dir_all(&dir)?;
        TestServer::launch(Dir::Kept(dir), listen, org, Config::default())
    }

    fn launch(dir: Dir, listen: &str, org: &str, settings: Config) -> anyhow::Result<TestServer> {
        let listener = std::net::TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let mut server = TestServer {
            addr,
            dir,
            running: None,
            settings,
        };
        AppState::open(&server.config())?.admin().import_toml(org)?;
        server.run(listener);
        Ok(server)
    }

    /// The base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("server.db")
    }

    /// Stops the server abruptly, as a crash would: in-flight requests are dropped.
    pub fn kill(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            running.runtime.shutdown_timeout(Duration::ZERO);
        }
    }

    /// Starts the server again on the same address and database.
    pub fn restart(&mut self) {
        self.kill();
        // The old listener's port may take a moment to be free again.
        let listener = (0..100)
            .find_map(|_| {
                std::net::TcpListener::bind(self.addr)
                    .map_err(|_| std::thread::sleep(Duration::from_millis(50)))
                    .ok()
            })
            .expect("the port is free again");
        self.run(listener);
    }

    /// A second handle on the server's database while it runs (SQLite in WAL mode serves
    /// both), for admin operations: `server.state().admin().move_user(..)`.
    pub fn state(&self) -> AppState {
        AppState::open(&self.config()).expect("the server's database opens")
    }

    /// How many changes the server's log holds (each stored once by hash).
    pub fn change_count(&self) -> u64 {
        let conn = rusqlite::Connection::open(self.db_path()).expect("server database");
        conn.query_row(
            "SELECT COUNT(*) FROM changes WHERE hash IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count")
    }

    fn run(&mut self, listener: std::net::TcpListener) {
        listener.set_nonblocking(true).expect("non-blocking");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let state = AppState::open(&self.config()).expect("server opens");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let _ = server::serve(listener, state, async {
                let _ = stopped.await;
            })
            .await;
        });
        self.running = Some(Running { runtime, stop });
    }

    /// The settings with this server's database.
    fn config(&self) -> Config {
        Config {
            db_path: self.db_path(),
            ..self.settings.clone()
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}
