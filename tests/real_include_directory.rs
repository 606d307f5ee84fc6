//! NFL001 on an include that names a directory: real `nginx -t` refuses the configuration with
//! the error the finding quotes, real php-fpm loads none of the directory's pools, and the
//! suggested glob makes both accept it.

mod support;

use std::path::Path;
use std::process::Command;

fn lint_concise(dir: &Path) -> String {
    let dir = dir.to_str().unwrap();
    let out = support::run_cli(
        Path::new("."),
        &["lint", "--format", "concise", "--isolated", dir],
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn nginx_t_refuses_a_directory_include_and_accepts_the_glob() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("conf.d")).unwrap();
    std::fs::write(
        root.join("conf.d/app.conf"),
        "server { listen 127.0.0.1:1; }\n",
    )
    .unwrap();
    let main = |include: &str| {
        format!(
            "pid {r}/nginx.pid;\nerror_log {r}/error.log;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {r}/t1;\n  proxy_temp_path {r}/t2;\n  fastcgi_temp_path {r}/t3;\n  uwsgi_temp_path {r}/t4;\n  scgi_temp_path {r}/t5;\n  include {include};\n}}\n",
            r = root.display()
        )
    };
    let nginx_t = || {
        Command::new(&bins.nginx)
            .arg("-t")
            .arg("-p")
            .arg(format!("{}/", root.display()))
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-e")
            .arg(root.join("error.log"))
            .output()
            .unwrap()
    };

    std::fs::write(root.join("nginx.conf"), main("conf.d")).unwrap();
    let report = lint_concise(root);
    assert!(
        report.contains("error[NFL001 include-not-found] include `conf.d` names a directory"),
        "{report}"
    );
    let out = nginx_t();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "nginx -t accepted a directory include"
    );
    assert!(stderr.contains("(21: Is a directory)"), "{stderr}");

    std::fs::write(root.join("nginx.conf"), main("conf.d/*.conf")).unwrap();
    assert!(!lint_concise(root).contains("NFL001"));
    let out = nginx_t();
    assert!(
        out.status.success(),
        "nginx -t refused the glob: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn php_fpm_loads_no_pool_from_a_directory_include() {
    let Some(bins) = support::require_stack() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir(root.join("pool.d")).unwrap();
    std::fs::write(
        root.join("pool.d/www.conf"),
        format!(
            "[www]\nlisten = {}/www.sock\npm = static\npm.max_children = 5\n",
            root.display()
        ),
    )
    .unwrap();
    let main = |include: &str| {
        format!(
            "[global]\npid = {r}/fpm.pid\nerror_log = {r}/fpm.log\ninclude={r}/{include}\n",
            r = root.display()
        )
    };
    let fpm_t = || {
        let mut cmd = Command::new(&bins.php_fpm);
        cmd.args(["-n", "-t", "-y"]).arg(root.join("php-fpm.conf"));
        if support::is_root() {
            cmd.arg("-R");
        }
        cmd.output().unwrap()
    };

    std::fs::write(root.join("php-fpm.conf"), main("pool.d")).unwrap();
    let report = lint_concise(root);
    assert!(
        report.contains("error[NFL001 include-not-found] include `")
            && report.contains("/pool.d` names a directory"),
        "{report}"
    );
    let out = fpm_t();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "php-fpm -t accepted: {stderr}");
    assert!(stderr.contains("No pool defined"), "{stderr}");

    std::fs::write(root.join("php-fpm.conf"), main("pool.d/*.conf")).unwrap();
    assert!(!lint_concise(root).contains("NFL001"));
    let out = fpm_t();
    assert!(
        out.status.success(),
        "php-fpm -t refused the glob: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
