//! The people on the demo's page: the owner, a staff member, and the patients added.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::standin::Person;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Staff,
    Patient,
}

/// One column of the page.
#[derive(Clone, Debug, Serialize)]
pub struct DemoPerson {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Their Telegram app's language, when not English.
    pub lang: Option<String>,
}

impl DemoPerson {
    /// The person as the stand-in shows them to the bot.
    pub fn person(&self) -> Person {
        let mut words = self.name.split_whitespace();
        let first = words.next().unwrap_or("Patient");
        let rest: Vec<&str> = words.collect();
        let mut p = Person::new(self.id, first);
        if !rest.is_empty() {
            p = p.last_name(&rest.join(" "));
        }
        match &self.lang {
            Some(l) => p.lang(l),
            None => p.lang("en"),
        }
    }
}

/// Everyone on the page, in the order they were added.
#[derive(Clone, Default)]
pub struct People {
    list: Arc<Mutex<Vec<DemoPerson>>>,
}

/// Staff take ids from here, patients from `FIRST_PATIENT` (Telegram user ids).
const FIRST_STAFF: i64 = 1001;
const FIRST_PATIENT: i64 = 2001;
/// The most patients one page may add: plenty for a demo, bounded for a browser.
pub const MAX_PATIENTS: usize = 50;

impl People {
    /// Adds the owner or a staff member; returns them as the stand-in knows them.
    pub fn add_staff(&self, name: &str, role: Role) -> Person {
        let mut list = self.lock();
        let n = list.iter().filter(|p| p.role != Role::Patient).count();
        let person = DemoPerson {
            id: FIRST_STAFF + n as i64,
            name: name.to_string(),
            role,
            lang: None,
        };
        list.push(person.clone());
        person.person()
    }

    /// Adds a patient; None when the page already has `MAX_PATIENTS` of them.
    pub fn add_patient(&self, name: &str, lang: Option<&str>) -> Option<DemoPerson> {
        let mut list = self.lock();
        let n = list.iter().filter(|p| p.role == Role::Patient).count();
        if n >= MAX_PATIENTS {
            return None;
        }
        let person = DemoPerson {
            id: FIRST_PATIENT + n as i64,
            name: name.to_string(),
            role: Role::Patient,
            lang: lang.filter(|l| *l != "en").map(str::to_string),
        };
        list.push(person.clone());
        Some(person)
    }

    pub fn get(&self, id: i64) -> Option<DemoPerson> {
        self.lock().iter().find(|p| p.id == id).cloned()
    }

    pub fn all(&self) -> Vec<DemoPerson> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<DemoPerson>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }
}
