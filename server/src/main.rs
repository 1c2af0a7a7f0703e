//! `fieldsync-server`: run the sync server, or manage its organisation.
//!
//! ```text
//! fieldsync-server serve [--config FILE] [--db PATH] [--listen ADDR]
//! fieldsync-server admin --db PATH territory add CODE NAME [--parent CODE]
//! fieldsync-server admin --db PATH territory list
//! fieldsync-server admin --db PATH territory move CODE --parent CODE
//! fieldsync-server admin --db PATH user add NAME --role ROLE --territory CODE   (password on stdin)
//! fieldsync-server admin --db PATH user list
//! fieldsync-server admin --db PATH user revoke NAME [--device DEVICE]
//! fieldsync-server admin --db PATH user devices NAME
//! fieldsync-server admin --db PATH user move NAME --territory CODE [--effective YYYY-MM-DD]
//! fieldsync-server admin --db PATH user assignments NAME
//! fieldsync-server admin --db PATH customer merge SURVIVOR_ID DUPLICATE_ID
//! fieldsync-server admin --db PATH customer assign CUSTOMER_ID --to USER
//! fieldsync-server admin --db PATH import FILE.toml
//! fieldsync-server admin --db PATH recheck
//! fieldsync-server admin --db PATH clock show|set DAYS
//! ```

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use server::accounts::Role;
use server::{AppState, Config};

#[derive(Parser)]
#[command(name = "fieldsync-server", version, about = "Fieldsync sync server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Configuration file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Database file (overrides the configuration).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Manage territories and users.
    Admin {
        /// Database file.
        #[arg(long, env = "FIELDSYNC_DB_PATH")]
        db: PathBuf,
        #[command(subcommand)]
        action: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Territories.
    Territory {
        #[command(subcommand)]
        action: TerritoryCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Customers.
    Customer {
        #[command(subcommand)]
        action: CustomerCommand,
    },
    /// Import territories and users from a TOML file.
    Import {
        /// The organisation file.
        file: PathBuf,
    },
    /// Re-run every business rule over every document (after a realignment or rule change).
    Recheck,
    /// Authority limits (discount and amount per role and grade).
    Limits {
        #[command(subcommand)]
        action: LimitsCommand,
    },
    /// How far laptops' clocks are believed (the offline window).
    Clock {
        #[command(subcommand)]
        action: ClockCommand,
    },
}

#[derive(Subcommand)]
enum ClockCommand {
    /// Believe laptops' clocks up to DAYS before the server received a record (default 31).
    Set {
        /// The longest a laptop may work offline, in days (0: always the server's time).
        days: u64,
    },
    /// Print the offline window in force.
    Show,
}

#[derive(Subcommand)]
enum LimitsCommand {
    /// Set the limits from a TOML file (format in `fieldsync-server admin limits show`).
    Set {
        /// The limits file.
        file: PathBuf,
    },
    /// Print the limits in force, as TOML.
    Show,
}

#[derive(Subcommand)]
enum TerritoryCommand {
    /// Create or update a territory.
    Add {
        /// Code, e.g. EAST-SH.
        code: String,
        /// Display name, e.g. 上海办事处.
        name: String,
        /// Parent code (none for the company root).
        #[arg(long)]
        parent: Option<String>,
    },
    /// List territories.
    List,
    /// Move a territory (and everything under it) to another parent.
    Move {
        /// Code of the territory that moves.
        code: String,
        /// Its new parent.
        #[arg(long)]
        parent: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create or update a user; the password is read from stdin (or prompted).
    Add {
        /// Login name.
        name: String,
        /// salesperson, region_manager, large_region_manager, head_office, finance or admin.
        #[arg(long)]
        role: String,
        /// The territory code the user is assigned to.
        #[arg(long)]
        territory: String,
    },
    /// List users.
    List,
    /// Revoke a user's devices (all, or the one named): each one's next sync purges everything
    /// it holds and refuses its edits; then it can neither sync nor log in again.
    Revoke {
        /// Login name.
        name: String,
        /// Only this device (the name it logged in with); default every device of the user.
        #[arg(long)]
        device: Option<String>,
    },
    /// List a user's devices.
    Devices {
        /// Login name.
        name: String,
    },
    /// Assign a user to another territory (their laptop's scope follows on its next sync).
    Move {
        /// Login name.
        name: String,
        /// The territory code they move to.
        #[arg(long)]
        territory: String,
        /// The day it takes effect (YYYY-MM-DD; default today).
        #[arg(long)]
        effective: Option<chrono::NaiveDate>,
    },
    /// List a user's territory assignments.
    Assignments {
        /// Login name.
        name: String,
    },
}

#[derive(Subcommand)]
enum CustomerCommand {
    /// Merge a duplicate customer (撞单) into the one that survives; both histories are kept.
    Merge {
        /// The customer that survives (full id).
        survivor: shared::RecordId,
        /// The duplicate, voided as merged into the survivor (full id).
        duplicate: shared::RecordId,
    },
    /// Assign a customer (and its visits, quotations and orders) to a salesperson (客户归属).
    Assign {
        /// The customer (full id).
        customer: shared::RecordId,
        /// The salesperson who takes it over.
        #[arg(long)]
        to: String,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { config, db, listen } => {
            let mut config = Config::load(config.as_deref())?;
            if let Some(db) = db {
                config.db_path = db;
            }
            if let Some(listen) = listen {
                config.listen = listen;
            }
            serve(config)
        }
        Command::Admin { db, action } => {
            let config = Config {
                db_path: db,
                ..Config::default()
            };
            admin(&AppState::open(&config)?, action)
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let state = AppState::open(&config)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let addr = listener.local_addr()?;
        server::check_plain_http(addr, &config)?;
        let url = server::url_for(addr, &config);
        println!("Fieldsync server listening on {url}");
        println!("Database: {}", config.db_path.display());
        println!("Connect a laptop with: fieldsync login --server {url} --user NAME");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        server::serve(listener, state, shutdown).await?;
        Ok(())
    })
}

fn read_password() -> anyhow::Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Again: ")?;
        if first != second {
            bail!("the passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.is_empty() {
        bail!("empty password");
    }
    Ok(password)
}

fn admin(state: &AppState, action: AdminCommand) -> anyhow::Result<()> {
    let admin = state.admin();
    match action {
        AdminCommand::Territory { action } => match action {
            TerritoryCommand::Add { code, name, parent } => {
                admin.add_territory(&code, &name, parent.as_deref())?;
                println!("territory {code} saved");
            }
            TerritoryCommand::Move { code, parent } => {
                admin.move_territory(&code, &parent)?;
                println!("territory {code} moved under {parent}");
            }
            TerritoryCommand::List => {
                for t in admin.territories()? {
                    println!("{}\t{}\t{}", t.code, t.name, t.parent.unwrap_or_default());
                }
            }
        },
        AdminCommand::User { action } => match action {
            UserCommand::Add {
                name,
                role,
                territory,
            } => {
                let role: Role = role.parse()?;
                let password = read_password()?;
                admin.add_user(&name, &password, role, &territory)?;
                println!("user {name} saved");
            }
            UserCommand::List => {
                for u in admin.list_users()? {
                    println!("{}\t{}\t{}", u.name, u.role, u.territory);
                }
            }
            UserCommand::Revoke { name, device } => {
                let n = admin.revoke_devices(&name, device.as_deref())?;
                println!("revoked {n} device(s) of {name}; each is wiped on its next sync");
            }
            UserCommand::Devices { name } => {
                for d in admin.devices(&name)? {
                    let state = d
                        .revoked_at
                        .map_or("active".to_string(), |at| format!("revoked {at}"));
                    println!("{}\t{}\t{state}", d.device, d.actor);
                }
            }
            UserCommand::Move {
                name,
                territory,
                effective,
            } => {
                if admin.move_user(&name, &territory, effective)? {
                    println!("{name} moved to {territory}");
                } else {
                    println!(
                        "{name} moves to {territory} on {}",
                        effective.unwrap_or_default()
                    );
                }
            }
            UserCommand::Assignments { name } => {
                for a in admin.assignments(&name)? {
                    let state = match a.applied_seq {
                        Some(seq) => format!("applied at log seq {seq}"),
                        None => "pending".to_string(),
                    };
                    println!(
                        "{}\t{}\t{}\t{state}",
                        a.effective_at, a.territory, a.recorded_at
                    );
                }
            }
        },
        AdminCommand::Customer { action } => match action {
            CustomerCommand::Assign { customer, to } => {
                let moved = admin.assign_customer(customer, &to)?;
                println!("{customer} assigned to {to}: {moved} record(s) moved");
            }
            CustomerCommand::Merge {
                survivor,
                duplicate,
            } => {
                let summary = admin.merge_customers(survivor, duplicate)?;
                if summary.already_merged {
                    println!("{duplicate} was already merged into {survivor}");
                } else {
                    println!(
                        "{duplicate} merged into {survivor}: {} field(s) filled, {} record(s) now \
                         count as the survivor's",
                        summary.filled.len(),
                        summary.dependents
                    );
                }
            }
        },
        AdminCommand::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let summary = admin.import_toml(&text)?;
            println!(
                "imported {} territories and {} users",
                summary.territories, summary.users
            );
            for (user, password) in summary.generated_passwords {
                println!("generated password for {user}: {password}");
            }
        }
        AdminCommand::Limits {
            action: LimitsCommand::Set { file },
        } => {
            let text = std::fs::read_to_string(&file)?;
            let entries = admin.set_limits_toml(&text)?;
            println!(
                "{entries} limit entries set; run `admin recheck` to apply them to existing records"
            );
        }
        AdminCommand::Limits {
            action: LimitsCommand::Show,
        } => {
            print!("{}", admin.limits_toml()?);
        }
        AdminCommand::Clock {
            action: ClockCommand::Set { days },
        } => {
            let policy = admin.set_max_offline_days(days)?;
            println!(
                "max_offline_days = {}; run `admin recheck` to judge existing records by it",
                policy.max_offline_days()
            );
        }
        AdminCommand::Clock {
            action: ClockCommand::Show,
        } => {
            println!(
                "max_offline_days = {}",
                admin.clock_policy()?.max_offline_days()
            );
        }
        AdminCommand::Recheck => {
            let summary = admin.recheck()?;
            println!(
                "re-checked {} documents; {} flag change(s) written",
                summary.documents, summary.flag_changes
            );
        }
    }
    Ok(())
}
