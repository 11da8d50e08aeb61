//! PostGIS, against a real PostgreSQL server (`.ci/postgres.sh` installs and
//! starts one and sets `DONGNE_TEST_PG`): the table swapped in atomically
//! with its key, index and QGIS style; yesterday's ids read back from it;
//! input layers read from tables; the errors a daily job meets.

use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use crate::common::{
    assert_contains, dongne_in, ogr2ogr, read_json, repo, run_in, shared_file, tool,
};

/// `DONGNE_TEST_PG`: a database with PostGIS. Panics when unset: these
/// tests must fail, not pass without a server.
fn pg() -> String {
    std::env::var("DONGNE_TEST_PG").expect(
        "DONGNE_TEST_PG is not set: run eval \"$(bash .ci/postgres.sh)\" first (bash .ci/run does)",
    )
}

/// `DONGNE_TEST_PG_PLAIN`: a database without PostGIS.
fn pg_plain() -> String {
    std::env::var("DONGNE_TEST_PG_PLAIN").expect(
        "DONGNE_TEST_PG_PLAIN is not set: run eval \"$(bash .ci/postgres.sh)\" first (bash .ci/run does)",
    )
}

/// Runs SQL with psql on `conn` (a `PG:` string) and returns its rows, `|`
/// between columns.
fn psql(conn: &str, sql: &str) -> String {
    psql_with(conn, sql, &[])
}

fn psql_with(conn: &str, sql: &str, flags: &[&str]) -> String {
    let args = [&[&conn[3..], "-v", "ON_ERROR_STOP=1", "-qAtc", sql], flags].concat();
    tool(Path::new("."), "psql", "postgresql-client", &args)
        .trim()
        .to_string()
}

/// Whether the table, index or other relation `name` exists in `conn`.
fn exists(conn: &str, name: &str) -> bool {
    psql(conn, &format!("SELECT to_regclass('{name}') IS NOT NULL")) == "t"
}

fn sample() -> String {
    repo().join("examples/sample.toml").display().to_string()
}

/// `generate` on the bundled sample into `table`.
fn generate_into(dir: &Path, table: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    let (cfg, conn) = (sample(), pg());
    let mut args = vec![
        "-q", "generate", "--config", &cfg, "-o", &conn, "--table", table,
    ];
    args.extend(extra);
    dongne_in(dir).args(&args).assert()
}

/// A first run of the sample into `table`, dropped beforehand with any
/// staging table of an earlier run: the run's folder and the connection.
fn first_run_into(table: &str) -> (tempfile::TempDir, String) {
    let d = tempfile::tempdir().unwrap();
    let conn = pg();
    psql(
        &conn,
        &format!("DROP TABLE IF EXISTS {table}; DROP TABLE IF EXISTS {table}_dongne_new"),
    );
    generate_into(d.path(), table, &[]).success();
    (d, conn)
}

#[test]
fn table_is_swapped_in_with_key_index_and_style() {
    let (d, conn) = first_run_into("t_swap");
    // The same features and fields as the GeoPackage of the same run.
    dongne_in(d.path())
        .args(["-q", "generate", "--config", &sample(), "-o", "n.gpkg"])
        .assert()
        .success();
    let gpkg = d.path().join("n.gpkg").display().to_string();
    ogr2ogr(
        d.path(),
        &["-f", "CSV", "from_gpkg.csv", &gpkg, "-sql", "SELECT nbhd_id, kind, admin_code, area_m2, buildings, bounded_by FROM neighborhoods ORDER BY nbhd_id"],
    );
    let rows = psql_with(
        &conn,
        "SELECT nbhd_id, kind, admin_code, area_m2, buildings, bounded_by FROM t_swap ORDER BY nbhd_id",
        &["--csv"],
    );
    let records = |text: &str, header: bool| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(header)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let csv = std::fs::read_to_string(d.path().join("from_gpkg.csv")).unwrap();
    let from_gpkg = records(&csv, true);
    assert_eq!(records(&rows, false), from_gpkg);
    assert_eq!(from_gpkg.len(), 33);

    assert_eq!(
        psql(
            &conn,
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid \
             AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 't_swap'::regclass AND i.indisprimary"
        ),
        "nbhd_id"
    );
    assert_eq!(
        psql(
            &conn,
            "SELECT indexname FROM pg_indexes WHERE tablename = 't_swap' ORDER BY indexname"
        ),
        "t_swap_geom_idx\nt_swap_pkey"
    );
    assert_eq!(
        psql(
            &conn,
            "SELECT Find_SRID('public', 't_swap', 'geom'), GeometryType(geom) FROM t_swap LIMIT 1"
        ),
        "32635|MULTIPOLYGON"
    );
    assert_eq!(
        psql(
            &conn,
            "SELECT stylename, useasdefault, f_geometry_column, xpath_exists('/qgis/renderer-v2', styleqml) \
             FROM layer_styles WHERE f_table_name = 't_swap'"
        ),
        "dongne|t|geom|t"
    );
    // No staging table is left.
    assert!(!exists(&conn, "t_swap_dongne_new"));
}

#[test]
fn previous_ids_are_read_from_the_table() {
    let (d, conn) = first_run_into("t_prev");
    generate_into(
        d.path(),
        "t_prev",
        &["--previous", &conn, "--changes", "changes.json"],
    )
    .success();
    let changes = read_json(&d.path().join("changes.json"));
    assert_eq!(changes["summary"]["kept"], 33);
    assert_eq!(changes["summary"]["added"], 0);
    assert_eq!(changes["previous"], "PG:dbname=dongne_test");
    // Only one style row for the table after two runs.
    assert_eq!(
        psql(
            &conn,
            "SELECT count(*) FROM layer_styles WHERE f_table_name = 't_prev'"
        ),
        "1"
    );
}

/// Kills a run once its staging table is complete and before the swap:
/// the table keeps yesterday's rows; the next run drops the staging table
/// and swaps its own in.
#[test]
fn killed_run_leaves_the_table_as_it_was() {
    let (d, conn) = first_run_into("t_kill");
    let rows = || {
        psql(
            &conn,
            "SELECT string_agg(nbhd_id || ':' || area_m2, ',' ORDER BY nbhd_id) FROM t_kill",
        )
    };
    let before = rows();

    // A different run (other eps, so other rows), paused before the swap.
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("dongne"))
        .current_dir(d.path())
        .args([
            "-q",
            "generate",
            "--config",
            &sample(),
            "--eps",
            "25",
            "-o",
            &conn,
            "--table",
            "t_kill",
        ])
        .env("DONGNE_TEST_PAUSE_BEFORE_RENAME_MS", "60000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // The primary key is added last before the pause: the staging table is complete.
    while !exists(&conn, "t_kill_dongne_new_pkey") {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never staged its table"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the pause"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(rows(), before, "a killed run changed the table");
    assert!(exists(&conn, "t_kill_dongne_new"));

    // The next run replaces it and leaves no staging table.
    generate_into(d.path(), "t_kill", &["--eps", "25"]).success();
    assert_ne!(rows(), before);
    assert!(!exists(&conn, "t_kill_dongne_new"));
}

/// Admin units and the river read from PostGIS tables give the same bytes
/// as the files they were loaded from.
#[test]
fn input_layers_from_tables_give_the_same_output() {
    let d = tempfile::tempdir().unwrap();
    let conn = pg();
    let admin = shared_file("seoul/seoul_jamsil_hangjeongdong.geojson");
    let water = shared_file("seoul/seoul_jamsil_hangang.geojson");
    for (file, table) in [(&admin, "in_jamsil_admin"), (&water, "in_jamsil_water")] {
        ogr2ogr(
            d.path(),
            &[
                "-f",
                "PostgreSQL",
                &conn,
                &file.display().to_string(),
                "-nln",
                table,
                "-overwrite",
            ],
        );
    }
    let cfg = repo().join("examples/jamsil.toml").display().to_string();
    dongne_in(d.path())
        .args(["-q", "generate", "--config", &cfg, "-o", "files.geojson"])
        .assert()
        .success();
    dongne_in(d.path())
        .args([
            "-q",
            "generate",
            "--config",
            &cfg,
            "--admin",
            &format!("{conn}:in_jamsil_admin"),
            "--water",
            &format!("{conn}:in_jamsil_water"),
            "-o",
            "tables.geojson",
        ])
        .assert()
        .success();
    let a = std::fs::read(d.path().join("files.geojson")).unwrap();
    let b = std::fs::read(d.path().join("tables.geojson")).unwrap();
    assert!(a.len() > 10_000);
    assert!(a == b, "PostGIS input gave another output than the files");
}

#[test]
fn errors_name_the_database_and_the_fix() {
    let d = tempfile::tempdir().unwrap();
    let plain = pg_plain();
    let cfg = sample();
    let into_t = |o| {
        run_in(
            d.path(),
            &["generate", "--config", &cfg, "-o", o, "--table", "t"],
        )
    };
    let (code, err) = into_t(&plain);
    assert_eq!(code, 3, "{err}");
    assert_contains(
        &err,
        &format!("error: {plain}: the database has no PostGIS (postgis_lib_version() is unknown)\n  hint: run CREATE EXTENSION postgis; in this database, as its owner or a superuser"),
    );

    let weak = format!("{} user=dongne_weak password=weak host=localhost", pg());
    let (code, err) = into_t(&weak);
    assert_ne!(code, 0, "{err}");
    assert_contains(
        &err,
        "user=dongne_weak password=*** host=localhost: role dongne_weak may not create tables in schema public\n  hint: GRANT CREATE ON SCHEMA public TO dongne_weak; or connect as a role that may",
    );
    assert!(
        !err.contains("password=weak"),
        "the password is shown: {err}"
    );

    let (code, err) = run_in(d.path(), &["generate", "--config", &cfg, "-o", &pg()]);
    assert_ne!(code, 0, "{err}");
    assert_contains(&err, "a PostGIS output needs --table NAME");
}

/// `--levels` and `--neighbours` into PostGIS: the levels in the table
/// (ids unique across levels: the primary key holds), the neighbour table
/// as `{table}_neighbours`, swapped in with it; a rerun without
/// `--neighbours` leaves yesterday's neighbour table as it was.
#[test]
fn levels_and_the_neighbour_table_go_into_postgis() {
    let dir = tempfile::tempdir().unwrap();
    let conn = pg();
    let table = "nbhd_levels";
    generate_into(dir.path(), table, &["--levels", "10,20", "--neighbours"]).success();
    let levels = psql(
        &conn,
        &format!("SELECT string_agg(DISTINCT level::text, ',') FROM {table}"),
    );
    assert_eq!(levels, "1,2,3");
    let orphans = psql(
        &conn,
        &format!(
            "SELECT count(*) FROM {table} c WHERE c.level < 3 AND NOT EXISTS \
             (SELECT 1 FROM {table} p WHERE p.nbhd_id = c.parent_id AND p.level = c.level + 1)"
        ),
    );
    assert_eq!(orphans, "0");
    let rows = psql(&conn, &format!("SELECT count(*) FROM {table}_neighbours"));
    assert!(rows.parse::<usize>().unwrap() > 0, "{rows}");
    let asym = psql(
        &conn,
        &format!(
            "SELECT count(*) FROM {table}_neighbours a WHERE NOT EXISTS (SELECT 1 FROM \
             {table}_neighbours b WHERE b.nbhd_id = a.neighbour_id AND b.neighbour_id = a.nbhd_id \
             AND b.level = a.level AND b.shared_m = a.shared_m)"
        ),
    );
    assert_eq!(asym, "0");
    assert!(!exists(&conn, &format!("{table}_neighbours_dongne_new")));
    generate_into(dir.path(), table, &[]).success();
    assert_eq!(
        psql(&conn, &format!("SELECT count(*) FROM {table}_neighbours")),
        rows
    );
}
