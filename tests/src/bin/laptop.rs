//! The `fieldsync` laptop CLI, built under another name for the end-to-end tests.

fn main() -> std::process::ExitCode {
    client::cli::main()
}
