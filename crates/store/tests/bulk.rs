//! Deferred indexes and keys on both engines: dropped for a load, rebuilt exactly, and never lost
//! when the load's transaction fails.

use store::bulk::DeferredIndexes;
use store::{Db, on_db, on_tx, testing};

async fn table(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    on_tx!(&mut tx, conn => {
        for sql in [
            "CREATE TABLE villages (id INTEGER PRIMARY KEY)",
            "INSERT INTO villages (id) VALUES (1)",
            "CREATE TABLE people (id INTEGER PRIMARY KEY, code TEXT NOT NULL, name TEXT NOT NULL, \
             village_id INTEGER NOT NULL REFERENCES villages (id))",
            "CREATE UNIQUE INDEX people_code ON people (code)",
            "CREATE INDEX people_name ON people (name, id)",
        ] {
            sqlx::query(sql).execute(&mut **conn).await.unwrap();
        }
    });
    tx.commit().await.unwrap();
}

async fn index_names(db: &Db) -> Vec<String> {
    let sql = match db.engine() {
        store::Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'people' AND sql IS NOT NULL ORDER BY name"
        }
        store::Engine::Postgres => {
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'people' AND schemaname = current_schema() AND indexname <> 'people_pkey' ORDER BY indexname"
        }
    };
    let rows: Vec<(String,)> =
        on_db!(db, pool => sqlx::query_as(sql).fetch_all(pool).await.unwrap());
    rows.into_iter().map(|(n,)| n).collect()
}

async fn load(db: &Db, codes: &[&str], village: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let deferred = DeferredIndexes::drop_for_load(&mut tx, "people").await?;
    assert_eq!(
        deferred.names().collect::<Vec<_>>(),
        ["people_code", "people_name"]
    );
    for (i, code) in codes.iter().enumerate() {
        on_tx!(&mut tx, conn => {
            sqlx::query("INSERT INTO people (id, code, name, village_id) VALUES ($1, $2, $3, $4)")
                .bind(i as i64 + 1)
                .bind(*code)
                .bind(format!("name {i}"))
                .bind(village)
                .execute(&mut **conn)
                .await?;
        });
    }
    deferred.rebuild(&mut tx).await?;
    tx.commit().await
}

#[tokio::test]
async fn indexes_come_back_after_a_load_and_stay_when_it_fails() {
    for engine in testing::engines() {
        let dir = tempfile::tempdir().unwrap();
        let db = testing::fresh(engine, dir.path()).await.unwrap();
        table(&db).await;
        let before = index_names(&db).await;
        assert_eq!(before, ["people_code", "people_name"], "{engine:?}");

        load(&db, &["A", "B", "C"], 1).await.unwrap();
        assert_eq!(index_names(&db).await, before, "{engine:?}");
        let count: (i64,) = on_db!(&db, pool => sqlx::query_as("SELECT COUNT(*) FROM people").fetch_one(pool).await.unwrap());
        assert_eq!(count.0, 3);

        // The unique index still holds: a duplicate code is refused, as before the load.
        let dup = on_db!(&db, pool => sqlx::query("INSERT INTO people (id, code, name, village_id) VALUES (9, 'A', 'x', 1)").execute(pool).await.is_err());
        assert!(dup, "{engine:?}: duplicate accepted");
        // And so does the foreign key.
        let orphan = on_db!(&db, pool => sqlx::query("INSERT INTO people (id, code, name, village_id) VALUES (9, 'Z', 'x', 2)").execute(pool).await.is_err());
        assert!(orphan, "{engine:?}: unknown village accepted");

        // A load whose rows break the unique index fails whole: no rows, indexes intact.
        on_db!(&db, pool => {
            sqlx::query("DELETE FROM people").execute(pool).await.unwrap();
        });
        assert!(load(&db, &["X", "X"], 1).await.is_err(), "{engine:?}");
        assert!(
            load(&db, &["Y"], 2).await.is_err(),
            "{engine:?}: orphan loaded"
        );
        assert_eq!(index_names(&db).await, before, "{engine:?}");
        let count: (i64,) = on_db!(&db, pool => sqlx::query_as("SELECT COUNT(*) FROM people").fetch_one(pool).await.unwrap());
        assert_eq!(count.0, 0, "{engine:?}");
        testing::drop_schema(&db).await;
    }
}

#[tokio::test]
async fn copy_writes_text_dates_and_nulls_as_given() {
    let Some(_) = testing::postgres_url() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = testing::fresh(store::Engine::Postgres, dir.path())
        .await
        .unwrap();
    on_db!(&db, pool => {
        sqlx::query("CREATE TABLE notes (id UUID PRIMARY KEY, body TEXT, day DATE, at TIMESTAMPTZ NOT NULL, n SMALLINT, ok BOOLEAN NOT NULL)")
            .execute(pool)
            .await
            .unwrap();
    });
    let id = uuid::Uuid::new_v4();
    let at = time::macros::datetime!(2026-11-25 15:47:03.123456 UTC);
    let mut rows = store::bulk::CopyRows::new();
    rows.row()
        .bind(id)
        .bind("line one\nline\ttwo \\ end")
        .bind(time::macros::date!(2026 - 01 - 31))
        .bind(at)
        .bind(Some(7i64))
        .bind(true);
    rows.row()
        .bind(uuid::Uuid::new_v4())
        .bind(None::<String>)
        .bind(None::<time::Date>)
        .bind(at)
        .bind(None::<i64>)
        .bind(false);
    let mut tx = db.begin().await.unwrap();
    assert_eq!(
        rows.copy_into(&mut tx, "notes", "id, body, day, at, n, ok")
            .await
            .unwrap(),
        2
    );
    tx.commit().await.unwrap();
    type Note = (
        Option<String>,
        Option<time::Date>,
        time::OffsetDateTime,
        Option<i16>,
        bool,
    );
    let got: Note = on_db!(&db, pool => sqlx::query_as("SELECT body, day, at, n, ok FROM notes WHERE id = $1").bind(id).fetch_one(pool).await.unwrap());
    assert_eq!(
        got,
        (
            Some("line one\nline\ttwo \\ end".to_string()),
            Some(time::macros::date!(2026 - 01 - 31)),
            at,
            Some(7),
            true
        )
    );
    let nulls: (i64,) = on_db!(&db, pool => sqlx::query_as("SELECT COUNT(*) FROM notes WHERE body IS NULL AND day IS NULL AND n IS NULL AND NOT ok").fetch_one(pool).await.unwrap());
    assert_eq!(nulls.0, 1);
    testing::drop_schema(&db).await;
}

async fn insert_person(db: &Db, id: i64, code: &str) -> Result<(), sqlx::Error> {
    on_db!(db, pool => {
        sqlx::query("INSERT INTO people (id, code, name, village_id) VALUES ($1, $2, 'n', 1)")
            .bind(id)
            .bind(code)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

async fn parked(db: &Db) -> i64 {
    let n: (i64,) = on_db!(db, pool => sqlx::query_as("SELECT COUNT(*) FROM bima_parked_indexes").fetch_one(pool).await.unwrap());
    n.0
}

#[tokio::test]
async fn parked_indexes_come_back_after_the_load_or_at_the_next_start() {
    for engine in testing::engines() {
        let dir = tempfile::tempdir().unwrap();
        let db = testing::fresh(engine, dir.path()).await.unwrap();
        table(&db).await;
        let before = index_names(&db).await;

        // Parked: gone while the load commits chunk after chunk, listed meanwhile.
        let names = store::bulk::park_indexes(&db, "people").await.unwrap();
        assert_eq!(names, ["people_code", "people_name"], "{engine:?}");
        assert!(index_names(&db).await.is_empty(), "{engine:?}");
        assert_eq!(parked(&db).await, 2);
        insert_person(&db, 1, "A").await.unwrap();
        insert_person(&db, 2, "B").await.unwrap();
        assert_eq!(
            store::bulk::restore_parked(&db, Some("people"))
                .await
                .unwrap(),
            2
        );
        assert_eq!(index_names(&db).await, before, "{engine:?}");
        assert_eq!(parked(&db).await, 0);
        assert!(
            insert_person(&db, 3, "A").await.is_err(),
            "{engine:?}: unique index lost"
        );

        // A load that dies with its indexes parked: the next start builds them again.
        store::bulk::park_indexes(&db, "people").await.unwrap();
        insert_person(&db, 3, "C").await.unwrap();
        db.migrate(&[]).await.unwrap();
        assert_eq!(index_names(&db).await, before, "{engine:?}");
        assert_eq!(parked(&db).await, 0);

        // A load that broke a unique index: building it fails, and it stays on the list (with
        // the other one) so that nothing is forgotten.
        store::bulk::park_indexes(&db, "people").await.unwrap();
        insert_person(&db, 4, "A").await.unwrap();
        assert!(store::bulk::restore_parked(&db, None).await.is_err());
        assert_eq!(parked(&db).await, 2, "{engine:?}");
        testing::drop_schema(&db).await;
    }
}
