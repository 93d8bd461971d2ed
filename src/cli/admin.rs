use super::{CliResult, print_json};
use crate::config::ServerArgs;
use carnet_service::ServiceKind;
use carnet_service::audit::Actor;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a platform administrator of a service. The password is read from the
    /// CARNET_ADMIN_PASSWORD variable, or from the first line of standard input.
    Create {
        service: ServiceKind,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

pub fn run(command: AdminCommand) -> CliResult {
    match command {
        AdminCommand::Create {
            service,
            email,
            name,
            server,
        } => {
            let password = match std::env::var("CARNET_ADMIN_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            super::with_server(server, |settings| async move {
                let ctx = crate::server::service(&settings, service).await?.ctx;
                let mut tx = ctx.db.begin().await.map_err(|e| e.to_string())?;
                let mut account = carnet_service::accounts::create_account(
                    &mut tx,
                    &ctx,
                    &Actor::system(),
                    &email,
                    &password,
                    &name,
                    true,
                )
                .await
                .map_err(|e| e.to_string())?;
                // The operator vouches for the address they typed.
                carnet_service::addresses::confirm_by_operator(
                    &mut tx,
                    &ctx,
                    &carnet_service::id::AccountId(account.id.clone()),
                )
                .await
                .map_err(|e| e.to_string())?;
                account.email_verified = true;
                tx.commit().await.map_err(|e| e.to_string())?;
                print_json(&account).map_err(|e| e.to_string())
            })
        }
    }
}
