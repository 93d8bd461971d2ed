//! The ranks of the roles and the one rule of who may give which. Every way a role is given —
//! the member routes of the organisation and of a session, an invitation when it is made and
//! again when it is accepted — asks [`check_org_grant`] and [`check_session_grant`], so the rule
//! lives here and nowhere else.
//!
//! In the organisation: admin > manager > trainer > trainee. Managers and administrators give
//! roles; nobody gives a role above their own, so only administrators make administrators.
//! In a session: manager > trainer > trainee. Its managers (and the organisation's
//! administrators) give its roles, in that session only; and nobody is made staff of a session
//! above their role in the organisation: a trainee of the centre stays a trainee in its
//! sessions, a trainer can be a session's trainer but not its manager.

use carnet_service::error::{ApiError, ApiResult};

/// A role in the organisation, in rank order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OrgRole {
    Trainee,
    Trainer,
    Manager,
    Admin,
}

/// A role in a session, in rank order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SessionRole {
    Trainee,
    Trainer,
    Manager,
}

impl OrgRole {
    pub const ALL: [OrgRole; 4] = [
        OrgRole::Admin,
        OrgRole::Manager,
        OrgRole::Trainer,
        OrgRole::Trainee,
    ];

    pub fn parse(name: &str) -> Option<OrgRole> {
        OrgRole::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Admin => "admin",
            OrgRole::Manager => "manager",
            OrgRole::Trainer => "trainer",
            OrgRole::Trainee => "trainee",
        }
    }

    /// The highest of the roles held (none for someone outside).
    pub fn highest<S: AsRef<str>>(held: &[S]) -> Option<OrgRole> {
        held.iter().filter_map(|r| OrgRole::parse(r.as_ref())).max()
    }

    /// Whether someone whose highest role is `self` may give `granted`: managers and
    /// administrators give roles, none above their own.
    pub fn can_grant(self, granted: OrgRole) -> bool {
        self >= OrgRole::Manager && granted <= self
    }
}

impl SessionRole {
    pub const ALL: [SessionRole; 3] = [
        SessionRole::Manager,
        SessionRole::Trainer,
        SessionRole::Trainee,
    ];

    pub fn parse(name: &str) -> Option<SessionRole> {
        SessionRole::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SessionRole::Manager => "manager",
            SessionRole::Trainer => "trainer",
            SessionRole::Trainee => "trainee",
        }
    }

    pub fn highest<S: AsRef<str>>(held: &[S]) -> Option<SessionRole> {
        held.iter()
            .filter_map(|r| SessionRole::parse(r.as_ref()))
            .max()
    }

    /// Whether someone whose highest role in the session is `self` may give `granted` in it:
    /// its managers give its roles, none above their own.
    pub fn can_grant(self, granted: SessionRole) -> bool {
        self >= SessionRole::Manager && granted <= self
    }

    /// The highest session role someone holding `org` in the organisation may have: a trainer
    /// may manage a session (and then runs that one only); a trainee is a trainee.
    pub fn ceiling(org: OrgRole) -> SessionRole {
        match org {
            OrgRole::Trainee => SessionRole::Trainee,
            OrgRole::Trainer | OrgRole::Manager | OrgRole::Admin => SessionRole::Manager,
        }
    }
}

/// Who gives a role, as far as giving roles goes: their roles in the organisation (a platform
/// administrator counts as its administrator) and, for a session, their roles in it.
pub struct Granter<'a> {
    pub platform_admin: bool,
    pub org_roles: &'a [String],
    pub session_roles: &'a [String],
}

impl Granter<'_> {
    fn org_rank(&self) -> Option<OrgRole> {
        if self.platform_admin {
            Some(OrgRole::Admin)
        } else {
            OrgRole::highest(self.org_roles)
        }
    }

    /// The granter's authority in the session: an administrator or manager of the organisation
    /// acts as a manager of every session; anyone else, as what they are in this one.
    fn session_rank(&self) -> Option<SessionRole> {
        if self.org_rank() >= Some(OrgRole::Manager) {
            Some(SessionRole::Manager)
        } else {
            SessionRole::highest(self.session_roles)
        }
    }
}

/// Parses an organisation role named in a request.
pub fn org_role(name: &str) -> ApiResult<OrgRole> {
    OrgRole::parse(name)
        .ok_or_else(|| ApiError::invalid_field("role", "admin, manager, trainer or trainee"))
}

/// Parses a session role named in a request.
pub fn session_role(name: &str) -> ApiResult<SessionRole> {
    SessionRole::parse(name)
        .ok_or_else(|| ApiError::invalid_field("role", "in a session: manager, trainer or trainee"))
}

/// May `granter` give `role` in the organisation? 403 if not.
pub fn check_org_grant(granter: &Granter<'_>, role: OrgRole) -> ApiResult<()> {
    match granter.org_rank() {
        Some(rank) if rank.can_grant(role) => Ok(()),
        _ => Err(ApiError::Forbidden),
    }
}

/// May `granter` give `role` in the session to someone whose roles in the organisation are
/// `grantee_org_roles` (those they will have once given, for an invitation)? 403 if the granter
/// may not; 422 (`role`) if the grantee may not be staff of a session.
pub fn check_session_grant<S: AsRef<str>>(
    granter: &Granter<'_>,
    grantee_org_roles: &[S],
    role: SessionRole,
) -> ApiResult<()> {
    match granter.session_rank() {
        Some(rank) if rank.can_grant(role) => {}
        _ => return Err(ApiError::Forbidden),
    }
    match OrgRole::highest(grantee_org_roles) {
        Some(org) if role <= SessionRole::ceiling(org) => Ok(()),
        Some(_) => Err(ApiError::invalid_field(
            "role",
            "nobody is staff of a session above their role in the organisation: give them a staff role there first",
        )),
        None => Err(ApiError::invalid_field(
            "email",
            "no member of this organisation has this e-mail address",
        )),
    }
}

/// May `granter` take `role` in the session away from someone? The same authority as giving
/// it: 403 if not.
pub fn check_session_removal(granter: &Granter<'_>, role: SessionRole) -> ApiResult<()> {
    match granter.session_rank() {
        Some(rank) if rank.can_grant(role) => Ok(()),
        _ => Err(ApiError::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rank_order() {
        use OrgRole::*;
        for (granter, grants) in [
            (Admin, &[Admin, Manager, Trainer, Trainee][..]),
            (Manager, &[Manager, Trainer, Trainee][..]),
            (Trainer, &[][..]),
            (Trainee, &[][..]),
        ] {
            for role in OrgRole::ALL {
                assert_eq!(
                    granter.can_grant(role),
                    grants.contains(&role),
                    "{granter:?} {role:?}"
                );
            }
        }
        assert!(SessionRole::Manager.can_grant(SessionRole::Manager));
        assert!(!SessionRole::Trainer.can_grant(SessionRole::Trainee));
        assert_eq!(SessionRole::ceiling(Trainee), SessionRole::Trainee);
        assert_eq!(OrgRole::highest(&["trainee", "manager"]), Some(Manager));
    }
}
