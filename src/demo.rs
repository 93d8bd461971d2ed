//! `carnet demo`: seeds a realistic demo — two training centres with their staff and trainees,
//! the trainees' wallet accounts, two recruiting companies — then serves. Seeding happens once
//! per data directory; later runs print the accounts and serve.

use crate::config::Settings;
use crate::server;
use carnet_issuer::Organisations;
use carnet_service::accounts::{Account, create_account};
use carnet_service::audit::Actor;
use carnet_service::auth::{AuthMethod, Principal};
use carnet_service::id::AccountId;
use carnet_service::tenants::{self, Access, NewMember, NewTenant, Policy};
use carnet_service::{Ctx, ServiceKind};
use carnet_verifier::Companies;
use std::io::Write;

/// Every demo account signs in with this password.
pub const PASSWORD: &str = "carnet-demo-2026";
const MARKER: &str = "admin@carnet.demo";

struct Person {
    email: &'static str,
    name: &'static str,
}

const fn p(email: &'static str, name: &'static str) -> Person {
    Person { email, name }
}

struct Centre {
    name: &'static str,
    siret: &'static str,
    address: &'static str,
    admin: Person,
    manager: Person,
    trainers: [Person; 2],
    /// Indices into TRAINEES.
    trainees: &'static [usize],
}

const TRAINEES: [Person; 12] = [
    p("camille.durand@exemple.fr", "Camille Durand"),
    p("yanis.benali@exemple.fr", "Yanis Benali"),
    p("lea.martin@exemple.fr", "Léa Martin"),
    p("hugo.lefebvre@exemple.fr", "Hugo Lefebvre"),
    p("ines.moreau@exemple.fr", "Inès Moreau"),
    p("theo.garcia@exemple.fr", "Théo Garcia"),
    p("chloe.roux@exemple.fr", "Chloé Roux"),
    p("mathis.fournier@exemple.fr", "Mathis Fournier"),
    p("sarah.nguyen@exemple.fr", "Sarah Nguyen"),
    p("lucas.petit@exemple.fr", "Lucas Petit"),
    p("jade.bertrand@exemple.fr", "Jade Bertrand"),
    p("nolan.mercier@exemple.fr", "Nolan Mercier"),
];

const CENTRES: [Centre; 2] = [
    Centre {
        name: "Centre de formation Lyon Métallerie",
        siret: "45218903800014",
        address: "12 rue de l'Industrie, 69007 Lyon",
        admin: p("direction@lyon-metallerie.demo", "Nathalie Girard"),
        manager: p("gestion@lyon-metallerie.demo", "Karim Haddad"),
        trainers: [
            p("j.martin@lyon-metallerie.demo", "Julien Martin"),
            p("s.blanc@lyon-metallerie.demo", "Sophie Blanc"),
        ],
        trainees: &[0, 1, 2, 3, 4, 5, 6],
    },
    Centre {
        name: "Institut bordelais du numérique",
        siret: "81234567600017",
        address: "4 quai des Chartrons, 33000 Bordeaux",
        admin: p("direction@ibn.demo", "Claire Dubois"),
        manager: p("gestion@ibn.demo", "Olivier Lambert"),
        trainers: [
            p("a.rousseau@ibn.demo", "Antoine Rousseau"),
            p("m.faure@ibn.demo", "Manon Faure"),
        ],
        // Camille and Yanis follow a second formation here: their carnet spans two centres.
        trainees: &[0, 1, 7, 8, 9, 10, 11],
    },
];

struct Company {
    name: &'static str,
    siret: &'static str,
    address: &'static str,
    admin: Person,
    recruiter: Person,
}

const COMPANIES: [Company; 2] = [
    Company {
        name: "Chaudronnerie Rhône-Alpes",
        siret: "52876431900018",
        address: "ZI Nord, 38200 Vienne",
        admin: p("rh@chaudronnerie-ra.demo", "Élodie Perrin"),
        recruiter: p("recrutement@chaudronnerie-ra.demo", "Marc Chevalier"),
    },
    Company {
        name: "Atelier numérique Aquitaine",
        siret: "90345612700013",
        address: "22 cours Victor-Hugo, 33000 Bordeaux",
        admin: p("rh@atelier-aquitaine.demo", "Lucie Morel"),
        recruiter: p("talents@atelier-aquitaine.demo", "Samuel Roche"),
    },
];

pub async fn run(settings: Settings) -> Result<(), String> {
    let services = vec![
        server::service(&settings, ServiceKind::Issuer).await?,
        server::service(&settings, ServiceKind::Wallet).await?,
        server::service(&settings, ServiceKind::Verifier).await?,
    ];
    let [issuer, wallet, verifier] = [&services[0].ctx, &services[1].ctx, &services[2].ctx];
    let seeded: Option<(String,)> = sqlx_query_marker(issuer).await?;
    if seeded.is_none() {
        seed(issuer, wallet, verifier)
            .await
            .map_err(|e| format!("seeding the demo: {e}"))?;
    } else {
        println!("Demo already seeded in {}.", settings.data_dir.display());
    }
    print_accounts(&settings);
    server::serve(services, &settings).await
}

async fn sqlx_query_marker(ctx: &Ctx) -> Result<Option<(String,)>, String> {
    carnet_service::accounts::find_by_email(ctx, MARKER)
        .await
        .map(|a| a.map(|a| (a.id,)))
        .map_err(|e| e.to_string())
}

/// `step  done/total`, redrawn in place on a terminal, printed once when finished otherwise.
fn progress(step: &str, done: usize, total: usize) {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        print!("\r  {step:<28} {done:>3}/{total}");
        let _ = std::io::stdout().flush();
        if done == total {
            println!();
        }
    } else if done == total {
        println!("  {step:<28} {done:>3}/{total}");
    }
}

async fn account(ctx: &Ctx, person: &Person, admin: bool) -> Result<Account, String> {
    let mut conn = ctx.db.pool().acquire().await.map_err(|e| e.to_string())?;
    create_account(
        &mut conn,
        ctx,
        &Actor::system(),
        person.email,
        PASSWORD,
        person.name,
        admin,
    )
    .await
    .map_err(|e| format!("{}: {e}", person.email))
}

fn principal(account: &Account) -> Principal {
    Principal {
        account_id: AccountId(account.id.clone()),
        email: account.email.clone(),
        display_name: account.display_name.clone(),
        platform_admin: account.platform_admin,
        method: AuthMethod::Token { id: "demo".into() },
        request_id: None,
    }
}

async fn tenant<P: Policy>(
    ctx: &Ctx,
    owner: &Account,
    name: &str,
    siret: &str,
    address: &str,
) -> Result<Access<P>, String> {
    let owner = principal(owner);
    let input = NewTenant {
        name: name.into(),
        siret: siret.into(),
        address: address.into(),
    };
    let created = tenants::create::<P>(ctx, &owner, input)
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(Access::trusted(owner, created))
}

async fn member<P: Policy>(
    ctx: &Ctx,
    access: &Access<P>,
    email: &str,
    role: &str,
) -> Result<(), String> {
    let input = NewMember {
        email: email.into(),
        role: role.into(),
    };
    tenants::add_member(ctx, access, input)
        .await
        .map(|_| ())
        .map_err(|e| format!("{email}: {e}"))
}

async fn seed(issuer: &Ctx, wallet: &Ctx, verifier: &Ctx) -> Result<(), String> {
    println!("Seeding the demo:");
    // Issuer: a platform administrator, two centres with staff and trainees.
    let staff_per_centre = 4;
    let issuer_total = 1 + TRAINEES.len() + CENTRES.len() * staff_per_centre;
    let mut done = 0;
    account(issuer, &p(MARKER, "Administration Carnet"), true).await?;
    done += 1;
    progress("centre accounts", done, issuer_total);
    for t in &TRAINEES {
        account(issuer, t, false).await?;
        done += 1;
        progress("centre accounts", done, issuer_total);
    }
    let mut memberships = 0;
    for c in &CENTRES {
        let admin = account(issuer, &c.admin, false).await?;
        let org = tenant::<Organisations>(issuer, &admin, c.name, c.siret, c.address).await?;
        account(issuer, &c.manager, false).await?;
        member(issuer, &org, c.manager.email, "manager").await?;
        for tr in &c.trainers {
            account(issuer, tr, false).await?;
            member(issuer, &org, tr.email, "trainer").await?;
        }
        done += staff_per_centre;
        progress("centre accounts", done, issuer_total);
        for &i in c.trainees {
            member(issuer, &org, TRAINEES[i].email, "trainee").await?;
        }
        memberships += 1 + 1 + c.trainers.len() + c.trainees.len();
    }
    // Wallet: one holder account per trainee.
    for (i, t) in TRAINEES.iter().enumerate() {
        account(wallet, t, false).await?;
        progress("wallet accounts", i + 1, TRAINEES.len());
    }
    // Verifier: a platform administrator and two approved companies.
    let v_admin = account(verifier, &p(MARKER, "Administration Carnet"), true).await?;
    for (i, c) in COMPANIES.iter().enumerate() {
        let admin = account(verifier, &c.admin, false).await?;
        let company = tenant::<Companies>(verifier, &admin, c.name, c.siret, c.address).await?;
        account(verifier, &c.recruiter, false).await?;
        member(verifier, &company, c.recruiter.email, "recruiter").await?;
        tenants::approve::<Companies>(verifier, &principal(&v_admin), &company.tenant.id)
            .await
            .map_err(|e| e.to_string())?;
        progress("recruiter companies", i + 1, COMPANIES.len());
    }
    println!(
        "Seeded {} centres ({} memberships), {} trainees with wallets, {} companies.",
        CENTRES.len(),
        memberships,
        TRAINEES.len(),
        COMPANIES.len()
    );
    Ok(())
}

fn print_accounts(settings: &Settings) {
    let url = |k| settings.service_url(k);
    println!("\nCarnet demo — every account's password is: {PASSWORD}\n");
    println!("Centre portal   {}", url(ServiceKind::Issuer));
    println!("  platform admin          {MARKER}");
    for c in &CENTRES {
        println!("  {}", c.name);
        println!("    admin                 {}", c.admin.email);
        println!("    manager               {}", c.manager.email);
        println!(
            "    trainers              {}, {}",
            c.trainers[0].email, c.trainers[1].email
        );
    }
    println!("Wallet          {}", url(ServiceKind::Wallet));
    println!(
        "  trainees                {} … {} ({} accounts)",
        TRAINEES[0].email,
        TRAINEES[11].email,
        TRAINEES.len()
    );
    println!("Recruiter portal {}", url(ServiceKind::Verifier));
    println!("  platform admin          {MARKER}");
    for c in &COMPANIES {
        println!(
            "  {} — admin {}, recruiter {}",
            c.name, c.admin.email, c.recruiter.email
        );
    }
    println!("\nOpen {}/ (Ctrl-C stops).", settings.public_url);
}
