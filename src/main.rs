//! The `duban` binary: parses the command line and runs it (see [`duban::cli`]).

/// mimalloc instead of the system allocator: under load the service allocates many small,
/// short-lived buffers (JSON bodies, events, read-model records) across threads, where glibc's
/// malloc spent a quarter of all CPU time in a profile.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    duban::cli::main()
}
