//! The `duban` binary: parses the command line and runs it (see [`duban::cli`]).

fn main() -> std::process::ExitCode {
    duban::cli::main()
}
