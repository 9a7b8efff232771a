//! The `sovgate` command.
fn main() -> std::process::ExitCode {
    sovgate::cli::main()
}
