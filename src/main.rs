use std::process::ExitCode;

use clap::Parser;
use nginx_fpm_lint::cli::Cli;
use nginx_fpm_lint::run;

// A large run makes millions of small allocations on several threads; glibc's malloc spent
// a fifth of it growing per-thread arenas (mprotect, page faults), mimalloc a fraction.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                run::EXIT_ERROR
            } else {
                run::EXIT_OK
            });
        }
    };
    ExitCode::from(run::run(cli))
}
