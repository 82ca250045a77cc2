//! The `zkrelay` binary: the web server (default) and, later, the command-line participants.

fn main() -> std::process::ExitCode {
    zkrelay::cli::main()
}
