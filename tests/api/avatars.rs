//! Avatars: uploads re-encoded from what the bytes are, hostile uploads refused with
//! nothing changed, and serving with the headers every avatar carries.

use image::{GenericImageView, ImageFormat};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, both_backends};
use crate::images::{encode, jpeg_rotated, picture, png_bomb, png_chunk_types, png_with_text};

async fn put_raw(app: &TestApp, token: &str, body: Vec<u8>) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/users/me/avatar"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("request")
}

async fn put_form(app: &TestApp, token: &str, part: Part) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/users/me/avatar"))
        .bearer_auth(token)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .expect("request")
}

/// Uploads `body` and returns the new `avatar_url`, checking the upload succeeded.
async fn upload(app: &TestApp, token: &str, body: Vec<u8>) -> String {
    let response = put_raw(app, token, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.expect("json");
    user["avatar_url"].as_str().expect("avatar_url").to_owned()
}

/// Fetches an avatar and checks it is a clean PNG within 256 px; returns its dimensions.
async fn fetch_clean_png(app: &TestApp, url: &str) -> (u32, u32) {
    let response = app.get(url).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let bytes = response.bytes().await.expect("body");
    let image = image::load_from_memory_with_format(&bytes, ImageFormat::Png).expect("decodes");
    assert_eq!(
        png_chunk_types(&bytes)
            .iter()
            .filter(|t| !["IHDR", "IDAT", "IEND"].contains(&t.as_str()))
            .count(),
        0,
        "metadata kept: {:?}",
        png_chunk_types(&bytes)
    );
    assert!(image.width() <= 256 && image.height() <= 256, "{:?}", image.dimensions());
    image.dimensions()
}

async fn png_jpeg_and_webp_are_accepted_and_reencoded_as_clean_small_pngs(app: TestApp) {
    let (_, token) = app.signed_in_user().await;

    let png = upload(&app, &token, png_with_text(600, 300)).await;
    assert_eq!(fetch_clean_png(&app, &png).await, (256, 128));
    let webp = upload(&app, &token, encode(&picture(90, 60), ImageFormat::WebP)).await;
    assert_eq!(fetch_clean_png(&app, &webp).await, (90, 60));
    let jpeg = upload(&app, &token, jpeg_rotated(400, 200)).await;
    // Orientation 6 turns the 2:1 landscape into a 1:2 portrait.
    assert_eq!(fetch_clean_png(&app, &jpeg).await, (128, 256));
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["avatar_url"], jpeg.as_str());
}
both_backends!(png_jpeg_and_webp_are_accepted_and_reencoded_as_clean_small_pngs);

async fn the_bytes_decide_the_format_not_the_declared_type_or_name(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let png = encode(&picture(32, 32), ImageFormat::Png);
    let part = Part::bytes(png).file_name("x.jpg").mime_str("image/jpeg").expect("mime");

    let response = put_form(&app, &token, part).await;

    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.expect("json");
    let url = user["avatar_url"].as_str().expect("avatar_url");
    assert_eq!(fetch_clean_png(&app, url).await, (32, 32));
}
both_backends!(the_bytes_decide_the_format_not_the_declared_type_or_name);

async fn hostile_and_broken_uploads_are_invalid_images_and_change_nothing(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let kept = upload(&app, &token, encode(&picture(20, 20), ImageFormat::Png)).await;
    let png = encode(&picture(64, 64), ImageFormat::Png);
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x00\x00payload.js".to_vec();
    let cases = [
        ("gif", gif),
        (
            "svg",
            br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec(),
        ),
        ("html", b"<!doctype html><html><body>hi</body></html>".to_vec()),
        ("truncated png", png[..png.len() / 2].to_vec()),
        ("png + zip", [png.clone(), zip].concat()),
        ("bomb", png_bomb()),
        ("empty", Vec::new()),
    ];
    for (name, body) in cases {
        let started = std::time::Instant::now();
        let response = put_raw(&app, &token, body).await;
        println!("{name}: {:?}", started.elapsed());
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_image").await;
    }

    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["avatar_url"], kept.as_str());
    assert_eq!(app.get(&kept).await.status(), StatusCode::OK);
}
both_backends!(hostile_and_broken_uploads_are_invalid_images_and_change_nothing);

async fn an_upload_over_the_limit_is_413_and_changes_nothing(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let kept = upload(&app, &token, encode(&picture(8, 8), ImageFormat::Png)).await;
    let large = encode(&picture(1000, 1000), ImageFormat::Png);
    assert!(large.len() > 4096, "the test image must exceed the limit");

    assert_problem(
        put_raw(&app, &token, large.clone()).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    let form = put_form(&app, &token, Part::bytes(large).file_name("big.png")).await;
    assert_problem(form, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["avatar_url"], kept.as_str());
}
both_backends!(an_upload_over_the_limit_is_413_and_changes_nothing, |figment: figment::Figment| {
    figment.merge(("avatar.max_upload_bytes", 4096))
});

async fn avatars_are_served_with_the_spec_headers_and_old_urls_answer_404(app: TestApp) {
    let (_, token) = app.signed_in_user().await;
    let old = upload(&app, &token, encode(&picture(10, 10), ImageFormat::Png)).await;
    let new = upload(&app, &token, encode(&picture(12, 12), ImageFormat::Png)).await;
    assert_ne!(old, new);

    let response = app.get(&new).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");
    let etag = headers["etag"].clone();
    let again =
        app.client.get(app.url(&new)).header("if-none-match", etag).send().await.expect("request");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_problem(app.get(&old).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_problem(
        app.get("/api/v1/avatars/..%2F..%2Fetc%2Fpasswd").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;

    let removed = app
        .client
        .delete(app.url("/api/v1/users/me/avatar"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&new).await, StatusCode::NOT_FOUND, "not_found").await;
    let me: Value = app.me(&token).await.json().await.expect("json");
    assert_eq!(me["avatar_url"], Value::Null);
}
both_backends!(avatars_are_served_with_the_spec_headers_and_old_urls_answer_404);

async fn deleting_the_account_deletes_its_avatar(app: TestApp) {
    let (user, token) = app.signed_in_user().await;
    let url = upload(&app, &token, encode(&picture(10, 10), ImageFormat::Png)).await;
    let name = url.rsplit('/').next().expect("name").to_owned();

    assert_eq!(app.delete_me(&token, &user.password).await.status(), StatusCode::NO_CONTENT);

    assert_problem(app.get(&url).await, StatusCode::NOT_FOUND, "not_found").await;
    let row = app.database.repositories().avatars.find(&name).await.expect("lookup");
    assert!(row.is_none(), "the avatar row outlived its account");
}
both_backends!(deleting_the_account_deletes_its_avatar);

async fn avatar_changes_need_a_token(app: TestApp) {
    let response = app
        .client
        .put(app.url("/api/v1/users/me/avatar"))
        .body(vec![1, 2, 3])
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let response =
        app.client.delete(app.url("/api/v1/users/me/avatar")).send().await.expect("request");
    assert_problem(response, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}
both_backends!(avatar_changes_need_a_token);
