//! Clinics' own texts: every saved version, and edits waiting for their text or for Save.

use chrono::{DateTime, Utc};

use sqlx::SqliteConnection;

use super::{Store, millis};

/// One saved version; `body` None means "back to the default from messages/".
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateVersion {
    pub version: i64,
    pub body: Option<String>,
    pub saved_by: i64,
    /// The saver's name on the clinic's staff list; `None` once they left it.
    pub saved_by_name: Option<String>,
    pub saved_at: i64,
}

/// An edit in progress; `body` is None until the staff member sends the new text.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Draft {
    pub id: i64,
    pub user_id: i64,
    pub clinic_id: i64,
    pub key: String,
    pub lang: String,
    pub body: Option<String>,
}

const DRAFT_COLUMNS: &str = "id, user_id, clinic_id, key, lang, body";

impl Store {
    /// The clinic's text in force for a message, if it has one.
    pub async fn template_override(
        &self,
        clinic_id: i64,
        key: &str,
        lang: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let body: Option<Option<String>> = sqlx::query_scalar(
            "SELECT body FROM template_versions WHERE clinic_id = ? AND key = ? AND lang = ?
             ORDER BY version DESC LIMIT 1",
        )
        .bind(clinic_id)
        .bind(key)
        .bind(lang)
        .fetch_optional(&self.pool)
        .await?;
        Ok(body.flatten())
    }

    /// `(key, lang)` of every message whose text in force at the clinic is its own.
    pub async fn overridden_templates(
        &self,
        clinic_id: i64,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT v.key, v.lang FROM template_versions v
             WHERE v.clinic_id = ? AND v.body IS NOT NULL
               AND v.version = (SELECT MAX(version) FROM template_versions w
                                WHERE w.clinic_id = v.clinic_id AND w.key = v.key AND w.lang = v.lang)",
        )
        .bind(clinic_id)
        .fetch_all(&self.pool)
        .await
    }

    /// Every version, newest first.
    pub async fn template_history(
        &self,
        clinic_id: i64,
        key: &str,
        lang: &str,
    ) -> Result<Vec<TemplateVersion>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        template_history(&mut conn, clinic_id, key, lang).await
    }

    /// The person's edit in progress, if any.
    pub async fn template_draft_of(&self, user_id: i64) -> Result<Option<Draft>, sqlx::Error> {
        let sql = format!("SELECT {DRAFT_COLUMNS} FROM template_drafts WHERE user_id = ?");
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
    }
}

/// Every version, newest first.
pub async fn template_history(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    key: &str,
    lang: &str,
) -> Result<Vec<TemplateVersion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT v.version, v.body, v.saved_by, NULLIF(s.display_name, '') AS saved_by_name, v.saved_at
         FROM template_versions v
         LEFT JOIN staff s ON s.clinic_id = v.clinic_id AND s.user_id = v.saved_by
         WHERE v.clinic_id = ? AND v.key = ? AND v.lang = ? ORDER BY v.version DESC",
    )
    .bind(clinic_id)
    .bind(key)
    .bind(lang)
    .fetch_all(conn)
    .await
}

/// The body of the clinic's latest version of a text: `None` without any version,
/// `Some(None)` when the latest is a reset to the default.
pub async fn latest_template_body(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    key: &str,
    lang: &str,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT body FROM template_versions WHERE clinic_id = ? AND key = ? AND lang = ?
         ORDER BY version DESC LIMIT 1",
    )
    .bind(clinic_id)
    .bind(key)
    .bind(lang)
    .fetch_optional(conn)
    .await
}

/// Starts an edit, replacing the person's earlier one (whose buttons go stale).
pub async fn start_template_draft(
    conn: &mut SqliteConnection,
    user_id: i64,
    clinic_id: i64,
    key: &str,
    lang: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query("DELETE FROM template_drafts WHERE user_id = ?")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "INSERT INTO template_drafts (user_id, clinic_id, key, lang, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(user_id)
    .bind(clinic_id)
    .bind(key)
    .bind(lang)
    .bind(millis(now))
    .fetch_one(conn)
    .await
}

/// The person's edit in progress, if any.
pub async fn template_draft_of(
    conn: &mut SqliteConnection,
    user_id: i64,
) -> Result<Option<Draft>, sqlx::Error> {
    let sql = format!("SELECT {DRAFT_COLUMNS} FROM template_drafts WHERE user_id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_optional(conn)
        .await
}

pub async fn template_draft(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<Option<Draft>, sqlx::Error> {
    let sql = format!("SELECT {DRAFT_COLUMNS} FROM template_drafts WHERE id = ?");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Keeps the checked new text with the edit until Save or Cancel.
pub async fn set_template_draft_body(
    conn: &mut SqliteConnection,
    id: i64,
    body: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE template_drafts SET body = ? WHERE id = ?")
        .bind(body)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops an edit; false when it was already gone.
pub async fn delete_template_draft(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM template_drafts WHERE id = ?")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Saves an edit's text as the next version and ends the edit, so a double press of
/// Save saves once. None when the edit is gone or its text is no longer `body` (a newer
/// text arrived since the preview).
pub async fn commit_template_draft(
    conn: &mut SqliteConnection,
    id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Draft, i64)>, sqlx::Error> {
    let sql =
        format!("DELETE FROM template_drafts WHERE id = ? AND body = ? RETURNING {DRAFT_COLUMNS}");
    let draft: Option<Draft> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(body)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(draft) = draft else {
        return Ok(None);
    };
    let version = save_template_version(
        conn,
        draft.clinic_id,
        &draft.key,
        &draft.lang,
        draft.body.as_deref(),
        draft.user_id,
        now,
    )
    .await?;
    Ok(Some((draft, version)))
}

/// Saves a new version; returns its number (1, 2, …).
pub async fn save_template_version(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    key: &str,
    lang: &str,
    body: Option<&str>,
    saved_by: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO template_versions (clinic_id, key, lang, version, body, saved_by, saved_at)
         VALUES (?, ?, ?, (SELECT COALESCE(MAX(version), 0) + 1 FROM template_versions
                           WHERE clinic_id = ? AND key = ? AND lang = ?), ?, ?, ?)
         RETURNING version",
    )
    .bind(clinic_id)
    .bind(key)
    .bind(lang)
    .bind(clinic_id)
    .bind(key)
    .bind(lang)
    .bind(body)
    .bind(saved_by)
    .bind(millis(now))
    .fetch_one(conn)
    .await
}

/// The steps of the clinic's course `course_key` whose text in `lang` the clinic saved
/// (`/edit course.<course>.<step>`) and did not reset since.
pub async fn saved_course_steps(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    course_key: &str,
    lang: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let prefix = format!("course.{course_key}.");
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT v.key FROM template_versions v
         WHERE v.clinic_id = ? AND v.lang = ? AND substr(v.key, 1, length(?)) = ?
           AND v.body IS NOT NULL
           AND v.version = (SELECT MAX(version) FROM template_versions w
                            WHERE w.clinic_id = v.clinic_id AND w.key = v.key AND w.lang = v.lang)",
    )
    .bind(clinic_id)
    .bind(lang)
    .bind(&prefix)
    .bind(&prefix)
    .fetch_all(conn)
    .await?;
    Ok(keys
        .into_iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
        .collect())
}

/// A clinic's own texts of one message move to another key (a course step renamed):
/// each language's text in force becomes the next version of `to`, and `from` goes
/// back to having none, so a later step with the old id does not start with them.
/// Both keys keep their history. Returns how many languages moved.
pub async fn move_texts(
    conn: &mut SqliteConnection,
    clinic_id: i64,
    from: &str,
    to: &str,
    saved_by: i64,
    now: DateTime<Utc>,
) -> Result<usize, sqlx::Error> {
    let in_force: Vec<(String, String)> = sqlx::query_as(
        "SELECT v.lang, v.body FROM template_versions v
         WHERE v.clinic_id = ? AND v.key = ? AND v.body IS NOT NULL
           AND v.version = (SELECT MAX(version) FROM template_versions w
                            WHERE w.clinic_id = v.clinic_id AND w.key = v.key AND w.lang = v.lang)",
    )
    .bind(clinic_id)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    for (lang, body) in &in_force {
        save_template_version(conn, clinic_id, to, lang, Some(body), saved_by, now).await?;
        save_template_version(conn, clinic_id, from, lang, None, saved_by, now).await?;
    }
    Ok(in_force.len())
}
