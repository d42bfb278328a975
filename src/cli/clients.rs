//! `warren clients …`: service clients (OAuth 2.0 client credentials) on the configured
//! database. `create` prints the secret this once; only its keyed hash is stored, under the
//! key every instance derives from the MFA key, so the command and the servers agree.

use std::sync::Arc;

use clap::Subcommand;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{Refused, UsageError};
use crate::core::clock::SystemClock;
use crate::core::config::Settings;
use crate::core::security::SecretBox;
use crate::domain::{ClientName, Scope, Scopes, ServiceClient};
use crate::preflight;
use crate::services::{ClientError, ClientService};

#[derive(Debug, Subcommand)]
pub enum ClientsAction {
    /// Register a service client and print its `client_id` and `client_secret` (shown only now).
    Create {
        name: String,
        /// A scope the client may ask for; repeat for several.
        #[arg(long = "scope", required = true, value_name = "SCOPE",
              value_parser = ["admin:read", "admin:write", "introspect"])]
        scopes: Vec<String>,
    },
    /// List the registered clients, oldest first (never their secrets).
    List,
    /// Delete a client: its tokens stop working at once.
    Delete { client_id: String },
}

/// A client as `--json` prints it.
#[derive(Serialize)]
struct ClientJson<'a> {
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    name: &'a str,
    scopes: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
}

pub async fn run(settings: &Settings, action: ClientsAction, as_json: bool) -> anyhow::Result<()> {
    // Check the arguments before touching the database or the key file.
    let action = Checked::from(action)?;
    let secrets = SecretBox::load(settings)?.client_secrets();
    let database = preflight::connect_database(settings).await?;
    let clients = Arc::clone(&database.repositories().clients);
    let service = ClientService::registry(clients, secrets, Arc::new(SystemClock));
    let outcome = act(&service, action, as_json).await;
    database.close().await;
    outcome.map_err(|error| match error {
        ClientError::NotFound(_) => Refused(error.to_string()).into(),
        other => anyhow::Error::new(other),
    })
}

/// An action whose arguments parsed.
enum Checked {
    Create(ClientName, Scopes),
    List,
    Delete(Uuid),
}

impl Checked {
    fn from(action: ClientsAction) -> Result<Self, UsageError> {
        Ok(match action {
            ClientsAction::Create { name, scopes } => {
                let name = ClientName::parse(&name).map_err(|e| UsageError(e.to_owned()))?;
                let scopes = scopes
                    .iter()
                    .map(|scope| {
                        Scope::parse(scope).ok_or_else(|| UsageError(format!("no scope {scope}")))
                    })
                    .collect::<Result<Scopes, _>>()?;
                Self::Create(name, scopes)
            }
            ClientsAction::List => Self::List,
            ClientsAction::Delete { client_id } => Self::Delete(
                Uuid::try_parse(client_id.trim())
                    .map_err(|_| UsageError(format!("{client_id:?} is not a client id")))?,
            ),
        })
    }
}

async fn act(service: &ClientService, action: Checked, as_json: bool) -> Result<(), ClientError> {
    match action {
        Checked::Create(name, scopes) => {
            let (client, secret) = service.create(name, scopes).await?;
            if as_json {
                print_json(&json(&client, Some(secret.expose())));
            } else {
                println!("client_id: {}", client.id);
                println!("client_secret: {}", secret.expose());
            }
        }
        Checked::List => {
            let clients = service.list().await?;
            if as_json {
                let listed: Vec<ClientJson<'_>> =
                    clients.iter().map(|client| json(client, None)).collect();
                print_json(&listed);
            } else {
                print_table(&clients);
            }
        }
        Checked::Delete(id) => {
            service.delete(&id.to_string()).await?;
            if as_json {
                print_json(&serde_json::json!({"outcome": "deleted", "client_id": id}));
            } else {
                println!("{id}: deleted");
            }
        }
    }
    Ok(())
}

fn json<'a>(client: &'a ServiceClient, secret: Option<&'a str>) -> ClientJson<'a> {
    ClientJson {
        client_id: client.id.to_string(),
        client_secret: secret,
        name: client.name.as_str(),
        scopes: client.scopes.names(),
        created_at: secret.is_none().then(|| created(client)),
    }
}

fn created(client: &ServiceClient) -> String {
    let at = client.created_at.replace_nanosecond(0).unwrap_or(client.created_at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn print_table(clients: &[ServiceClient]) {
    println!("{:<36}  {:<20}  {:<32}  NAME", "CLIENT_ID", "CREATED", "SCOPES");
    for client in clients {
        let scopes = client.scopes.to_string();
        println!(
            "{:<36}  {:<20}  {scopes:<32}  {}",
            client.id,
            created(client),
            client.name.as_str()
        );
    }
}

fn print_json(value: &impl Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => println!("{text}"),
        Err(error) => eprintln!("error: cannot print JSON: {error}"),
    }
}
