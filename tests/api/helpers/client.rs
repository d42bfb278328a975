//! HTTP shortcuts on `TestApp` for the requests most tests make.

use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use super::{TestApp, TestUser};

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request")
    }

    pub async fn signup(&self, user: &TestUser) -> Response {
        let body =
            json!({"email": user.email, "password": user.password, "full_name": user.full_name});
        self.post_json("/api/v1/auth/signup", &body).await
    }

    pub async fn signin(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/signin", &json!({"email": email, "password": password})).await
    }

    /// Signs a fresh user up and in; returns the user and their access token.
    pub async fn signed_in_user(&self) -> (TestUser, String) {
        let user = TestUser::generate();
        assert_eq!(self.signup(&user).await.status(), StatusCode::CREATED);
        let token = self.token_for(&user.email, &user.password).await;
        (user, token)
    }

    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let response = self.signin(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "signin of {email}");
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// Signs in and returns the whole token response.
    pub async fn signin_body(&self, user: &TestUser, user_agent: &str) -> Value {
        let response = self
            .client
            .post(self.url("/api/v1/auth/signin"))
            .header("user-agent", user_agent)
            .json(&json!({"email": user.email, "password": user.password}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json("/api/v1/auth/refresh", &json!({"refresh_token": refresh_token})).await
    }

    pub async fn me(&self, token: &str) -> Response {
        self.client
            .get(self.url("/api/v1/users/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    /// `GET /users/me/sessions`, asserted to succeed.
    pub async fn sessions(&self, token: &str) -> Value {
        let response = self
            .client
            .get(self.url("/api/v1/users/me/sessions"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    pub async fn patch_me(&self, token: &str, body: &Value) -> Response {
        self.client
            .patch(self.url("/api/v1/users/me"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete_me(&self, token: &str, current_password: &str) -> Response {
        self.client
            .delete(self.url("/api/v1/users/me"))
            .bearer_auth(token)
            .json(&json!({"current_password": current_password}))
            .send()
            .await
            .expect("request")
    }
}
