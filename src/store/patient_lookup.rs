//! Finding a clinic's patient from what a staff member typed. Always within one clinic:
//! patient ids never cross clinics.

use sqlx::SqliteConnection;

use super::{Patient, Store};
use crate::domain::booking::PatientRef;

pub enum Lookup {
    One(Box<Patient>),
    None,
    /// Several patients match the name: (id, name) of each.
    Many(Vec<(i64, String)>),
    /// The patient erased their data on this date (clinic time): the record is final,
    /// no staff command acts on it.
    Erased {
        id: i64,
        on: chrono::NaiveDate,
    },
}

use super::patients::PATIENT_COLUMNS as COLUMNS;

impl Store {
    pub async fn find_patient(
        &self,
        clinic_id: i64,
        who: &PatientRef,
    ) -> Result<Lookup, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        find_patient(&mut conn, clinic_id, who).await
    }
}

pub async fn find_patient(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    who: &PatientRef,
) -> Result<Lookup, sqlx::Error> {
    let found: Vec<Patient> = match who {
        PatientRef::Id(id) => {
            let sql = format!("SELECT {COLUMNS} FROM patients WHERE clinic_id = ? AND id = ?");
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(clinic_id)
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
        }
        PatientRef::Name(name) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM patients WHERE clinic_id = ? AND lower(name) = lower(?) ORDER BY id DESC LIMIT 10"
            );
            let exact: Vec<Patient> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(clinic_id)
                .bind(name)
                .fetch_all(&mut *conn)
                .await?;
            if exact.is_empty() {
                let sql = format!(
                        "SELECT {COLUMNS} FROM patients WHERE clinic_id = ? AND instr(lower(name), lower(?)) > 0
                         ORDER BY id DESC LIMIT 10"
                    );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(clinic_id)
                    .bind(name)
                    .fetch_all(&mut *conn)
                    .await?
            } else {
                exact
            }
        }
    };
    if let [p] = found.as_slice()
        && let Some(at) = p.erased()
    {
        let zone: Option<String> = sqlx::query_scalar("SELECT timezone FROM clinics WHERE id = ?")
            .bind(clinic_id)
            .fetch_optional(&mut *conn)
            .await?;
        let tz = zone
            .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(chrono_tz::UTC);
        return Ok(Lookup::Erased {
            id: p.id,
            on: at.with_timezone(&tz).date_naive(),
        });
    }
    Ok(match found.len() {
        0 => Lookup::None,
        1 => Lookup::One(Box::new(found.into_iter().next().expect("one"))),
        _ => Lookup::Many(found.into_iter().map(|p| (p.id, p.name)).collect()),
    })
}
