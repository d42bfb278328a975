//! `Application::build` → `run_until`: bind, connect, migrate, wire the services, serve.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use warren_verifier::{VerifierConfig, WarrenVerifier};

use crate::api::{self, AppState};
use crate::config::Settings;
use crate::repositories::ChatDatabase;
use crate::services::ChatService;
use crate::services::cipher::MessageCipher;
use crate::services::names::NameDirectory;

pub struct Application {
    listener: TcpListener,
    database: ChatDatabase,
    state: AppState,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl Application {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let cipher = MessageCipher::from_settings(
            &settings.encryption,
            &settings.data_dir,
            !settings.is_production(),
        )
        .context("load the message-encryption keys")?;
        let database =
            ChatDatabase::connect(&settings.database_url(), settings.database.max_connections)
                .await?;
        database.migrate().await?;
        let repositories = database.repositories();
        let verifier = Arc::new(WarrenVerifier::new(VerifierConfig {
            min_refetch_interval: Duration::from_secs(settings.auth.jwks_min_refetch_secs),
            max_lifetime: Duration::from_secs(settings.auth.max_token_lifetime_secs),
            ..VerifierConfig::new(
                &settings.warren.url,
                &settings.auth.issuer,
                &settings.auth.audience,
            )
        }));
        // Warm the key cache; if Warren is not up yet, the first token triggers the fetch.
        verifier.prefetch().await;
        let (stopping, stopping_receiver) = tokio::sync::watch::channel(false);
        let state = AppState {
            names: Arc::new(NameDirectory::new(
                &settings.warren.url,
                Arc::clone(&repositories.names),
            )),
            chat: Arc::new(ChatService::new(repositories, cipher)),
            verifier,
            allowed_origins: settings.cors.allowed_origins.clone().into(),
            stopping: stopping_receiver,
        };
        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let listener =
            TcpListener::bind(&address).await.with_context(|| format!("bind {address}"))?;
        Ok(Self { listener, database, state, stopping })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn database(&self) -> &ChatDatabase {
        &self.database
    }

    /// Serves until `shutdown` completes, then closes the pool.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = api::router(self.state);
        let stopping = self.stopping;
        // Upgraded sockets are not drained by graceful shutdown: tell them to close (1001).
        let shutdown = async move {
            shutdown.await;
            let _ = stopping.send(true);
        };
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serve")?;
        self.database.close().await;
        Ok(())
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    }
}
