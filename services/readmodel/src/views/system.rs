//! What the read model says about itself and the system: how far it has applied each stream
//! (`position_show`), the access tokens (`token_list`, admins only, never their hash), people's
//! accounts (`account_list`, admins only, never a hash) and the reports made (`report_list`,
//! `report_show`).

use tatrack_bus::rpc::ErrorBody;
use tatrack_contract::answers::{AccountRow, Positions, TokenRow};
use tatrack_domain::account::AccountState;
use tatrack_domain::report::ReportState;
use tatrack_domain::token::TokenState;

use super::{Answer, Query, to_value};
use crate::asof::{self, AsOf};

/// `token_list`: admins only; to anyone else the list is empty, as lists leave out what the
/// caller may not see (and every list view stays answerable to every role).
pub(crate) fn tokens(q: &Query) -> Result<Answer, ErrorBody> {
    if !q.principal.is_admin() {
        return to_value(Vec::<TokenRow>::new());
    }
    let out: Vec<TokenRow> = q
        .views
        .scan::<TokenState>("partners", "token")?
        .iter()
        .filter(|t| q.id_ok(&t.id) && q.status_ok(t.status))
        .map(|t| TokenRow::from(t.clone()))
        .collect();
    to_value(q.page(out))
}

/// `account_list`: admins only, as `token_list`; sorted by e-mail. A row carries no hash: only
/// whether an invitation is open and until when.
pub(crate) fn accounts(q: &Query) -> Result<Answer, ErrorBody> {
    if !q.principal.is_admin() {
        return to_value(Vec::<AccountRow>::new());
    }
    let mut out: Vec<AccountRow> = q
        .views
        .scan::<AccountState>("partners", "account")?
        .iter()
        .filter(|a| q.id_ok(&a.id) && q.status_ok(a.status))
        .map(|a| AccountRow::from(a.clone()))
        .collect();
    out.sort_by(|a, b| a.email.cmp(&b.email).then(a.id.cmp(&b.id)));
    to_value(q.page(out))
}

/// `position_show`: how far the read model has applied each stream (or the positions a given
/// `known_at` stands for), in the form `known_at` takes, and the latest business date seen.
pub(crate) fn positions(positions: &asof::Positions, as_of: &AsOf) -> Result<Answer, ErrorBody> {
    to_value(Positions {
        known_at: asof::format_positions(positions),
        positions: positions.clone(),
        latest_business_date: as_of.max_on(),
    })
}

/// `report_list`, `report_show`: a report is its requester's (the same token), and the staff's
/// and auditors'; to anyone else it does not exist. Newest first.
pub(crate) fn reports(q: &Query) -> Result<Answer, ErrorBody> {
    let p = q.principal;
    let mut out: Vec<ReportState> = q
        .pick::<ReportState>("reporter", "report")?
        .iter()
        .filter(|r| {
            (p.reads_all()
                || r.requested_by
                    .as_ref()
                    .is_some_and(|by| by.id == p.id && by.role == p.role))
                && q.id_ok(&r.id)
                && q.status_ok(r.status)
        })
        .cloned()
        .collect();
    out.sort_by(|a, b| b.made_on.cmp(&a.made_on).then(b.id.cmp(&a.id)));
    q.one_or_all(out)
}
