use std::process::ExitCode;

use clap::Parser;
use nginx_fpm_lint::cli::Cli;
use nginx_fpm_lint::run;

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
