//! The authorization matrix: every staff command × every kind of person × their own
//! clinic and another one. Allowed calls succeed; refused calls change nothing.

mod support;

use aftercare::clock::Clock;
use aftercare::store::{StaffRole, clinics};
use support::app::{TestApp, WAIT};
use support::fake_telegram::TestUser;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Owner,
    Admin,
    Staff,
    Revoked,
    Stranger,
    Patient,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    OwnClinic,
    OtherClinic,
}

/// A command, how to aim it, what success looks like, and who may do it.
struct Case {
    command: &'static str,
    success: &'static str,
    may: &'static [Who],
}

const ALL_STAFF: &[Who] = &[Who::Owner, Who::Admin, Who::Staff];
const MANAGERS: &[Who] = &[Who::Owner, Who::Admin];
const OWNERS: &[Who] = &[Who::Owner];

const CASES: &[Case] = &[
    Case {
        command: "/enroll Probe Patient",
        success: "?start=",
        may: ALL_STAFF,
    },
    Case {
        command: "/patients",
        success: "Patients of",
        may: ALL_STAFF,
    },
    Case {
        command: "/relink {patient}",
        success: "New link",
        may: ALL_STAFF,
    },
    Case {
        command: "/staff",
        success: "People of",
        may: ALL_STAFF,
    },
    Case {
        command: "/invite staff",
        success: "Invite to",
        may: MANAGERS,
    },
    Case {
        command: "/role {person} admin",
        success: "is now admin",
        may: MANAGERS,
    },
    Case {
        command: "/revoke {person}",
        success: "no longer has access",
        may: MANAGERS,
    },
    Case {
        command: "/patient #{patient}",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/pause #{patient}",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/resume #{patient}",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/book #{patient} 2026-12-21 10:30",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/unbook #{patient}",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/series #{patient} 3",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/done #{patient}",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/cancel #{patient}",
        success: "Pia A",
        may: ALL_STAFF,
    },
    Case {
        command: "/settings contact 555",
        success: "Saved.",
        may: OWNERS,
    },
    Case {
        command: "/audit",
        success: "Recent actions",
        may: OWNERS,
    },
    Case {
        command: "/clinic {clinic}",
        success: "You now act for",
        may: ALL_STAFF,
    },
    Case {
        command: "/timing",
        success: "Course timing",
        may: ALL_STAFF,
    },
    Case {
        command: "/timing activities off",
        success: "is switched off",
        may: MANAGERS,
    },
    Case {
        command: "/history step.sun-morning",
        success: "step.sun-morning (en)",
        may: ALL_STAFF,
    },
    Case {
        command: "/reset step.sun-morning",
        // Nothing of its own to reset in this world: "already uses the default text".
        success: "uses the default text",
        may: MANAGERS,
    },
];

struct World {
    app: TestApp,
    clinic_a: i64,
    clinic_b: i64,
    patient_a: i64,
    patient_b: i64,
    next_user: i64,
}

impl World {
    async fn new() -> World {
        let app = TestApp::start().await;
        let clinic_a = app
            .clinic_with_owner(&TestUser::new(1001, "Olga"), "Clinic A", "Europe/Berlin")
            .await;
        let clinic_b = app
            .clinic_with_owner(&TestUser::new(1101, "Bo"), "Clinic B", "Europe/Berlin")
            .await;
        app.linked_patient(
            &TestUser::new(1001, "Olga"),
            &TestUser::new(2001, "Pia"),
            "Pia A",
        )
        .await;
        app.enroll(&TestUser::new(1101, "Bo"), "Pat B").await;
        World {
            app,
            clinic_a,
            clinic_b,
            patient_a: 1,
            patient_b: 2,
            next_user: 7000,
        }
    }

    async fn add(&self, clinic: i64, user: i64, role: StaffRole) {
        let mut conn = self.app.store.pool().acquire().await.unwrap();
        clinics::add_staff(&mut conn, clinic, user, role, self.app.clock.now())
            .await
            .unwrap();
    }

    /// A fresh person of kind `who` (in clinic A where that applies).
    async fn person(&mut self, who: Who) -> TestUser {
        let user = match who {
            Who::Owner => TestUser::new(1001, "Olga"),
            Who::Patient => TestUser::new(2001, "Pia"),
            _ => {
                self.next_user += 1;
                TestUser::new(self.next_user, "Probe")
            }
        };
        match who {
            Who::Admin => self.add(self.clinic_a, user.id, StaffRole::Admin).await,
            Who::Staff => self.add(self.clinic_a, user.id, StaffRole::Staff).await,
            Who::Revoked => {
                self.add(self.clinic_a, user.id, StaffRole::Staff).await;
                sqlx::query("DELETE FROM staff WHERE user_id = ?")
                    .bind(user.id)
                    .execute(self.app.store.pool())
                    .await
                    .unwrap();
            }
            _ => {}
        }
        user
    }

    /// A fresh staff member to aim /role and /revoke at.
    async fn victim(&mut self, clinic: i64) -> i64 {
        self.next_user += 1;
        self.add(clinic, self.next_user, StaffRole::Staff).await;
        self.next_user
    }

    async fn fingerprint(&self) -> Vec<i64> {
        // A reminder an earlier command made due may still be on its way out (the
        // answer is queued ahead of it), and a check-in sent adds its nudge: measure
        // once the scheduler has nothing due or in hand, so it cannot move a count
        // between this reading and the next.
        let now = self.app.clock.now().timestamp_millis();
        support::app::eventually("no reminder is due or being sent", || async move {
            let busy: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM reminders
                 WHERE status = 'leased' OR (status = 'pending' AND due_at <= ?)",
            )
            .bind(now)
            .fetch_one(self.app.store.pool())
            .await
            .unwrap();
            busy == 0
        })
        .await;
        let mut out = Vec::new();
        for sql in [
            "SELECT COUNT(*) FROM patients",
            "SELECT COUNT(*) FROM links",
            "SELECT COUNT(*) FROM staff",
            "SELECT COUNT(*) FROM staff WHERE role = 'admin'",
            "SELECT COUNT(*) FROM audit",
            "SELECT COUNT(*) FROM active_clinic",
            "SELECT COUNT(*) FROM clinics WHERE contact != ''",
            "SELECT COUNT(*) FROM patients WHERE status = 'active'",
            "SELECT COUNT(*) FROM reminders WHERE status = 'pending'",
            "SELECT COUNT(*) FROM bookings",
            "SELECT COUNT(*) FROM template_versions",
            "SELECT COUNT(*) FROM template_drafts",
            "SELECT COUNT(*) FROM step_timings",
        ] {
            out.push(self.app.count(sql).await);
        }
        out
    }
}

#[tokio::test]
async fn every_command_checks_the_role_in_the_clinic_it_touches() {
    let mut w = World::new().await;
    let mut checked = 0;
    for case in CASES {
        for who in [
            Who::Owner,
            Who::Admin,
            Who::Staff,
            Who::Revoked,
            Who::Stranger,
            Who::Patient,
        ] {
            for target in [Target::OwnClinic, Target::OtherClinic] {
                let user = w.person(who).await;
                let (clinic, patient) = match target {
                    Target::OwnClinic => (w.clinic_a, w.patient_a),
                    Target::OtherClinic => (w.clinic_b, w.patient_b),
                };
                let person = w.victim(clinic).await;
                let command = case
                    .command
                    .replace("{patient}", &patient.to_string())
                    .replace("{person}", &person.to_string())
                    .replace("{clinic}", &clinic.to_string());
                // Commands without a target act on the caller's own clinic only.
                let aims = case.command.contains('{');
                let may = case.may.contains(&who) && (target == Target::OwnClinic || !aims);
                let before = w.fingerprint().await;
                w.app.tg.skip_sent(user.id);
                w.app.tg.send_text(&user, &command);
                let reply = w
                    .app
                    .tg
                    .wait_for_count(user.id, 1, WAIT)
                    .await
                    .remove(0)
                    .plain_text();
                let succeeded = reply.contains(case.success);
                assert_eq!(
                    succeeded, may,
                    "{who:?} `{command}` ({target:?}) answered: {reply}"
                );
                if !may {
                    // The victim row added above is the only difference allowed.
                    assert_eq!(
                        w.fingerprint().await,
                        before,
                        "{who:?} `{command}` changed state"
                    );
                    assert!(!reply.contains("Pat B"), "clinic B's data leaked: {reply}");
                }
                if case.command == "/patients" && succeeded {
                    assert!(
                        !reply.contains("Pat B"),
                        "clinic B's patient listed to clinic A: {reply}"
                    );
                }
                // Leave the owner acting for clinic A.
                sqlx::query("DELETE FROM active_clinic")
                    .execute(w.app.store.pool())
                    .await
                    .unwrap();
                checked += 1;
            }
        }
    }
    assert_eq!(checked, CASES.len() * 6 * 2);
    w.app.stop().await;
}
