//! The `sovgate` command.

// The data path allocates small, short-lived buffers per request (header maps, JSON paths,
// audit lines) from several threads; glibc's malloc took ~10% of the CPU under load. mimalloc's
// thread-local free lists make those cheap. Library users (tests, benches) keep their own
// allocator; only the shipped binary opts in.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    sovgate::cli::main()
}
