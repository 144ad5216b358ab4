//! Access tokens (JWT, HS256), refresh tokens and API key secrets, and the
//! password hashes behind logins.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ISSUER: &str = "cohort";
pub const AUDIENCE: &str = "cohort-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub org: Uuid,
    pub adm: bool,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        // Only HS256 is accepted: `alg: none` and algorithm confusion fail validation.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn issue(&self, person: Uuid, org: Uuid, admin: bool, lifetime_seconds: i64) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: person,
            org,
            adm: admin,
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + lifetime_seconds,
        };
        // Encoding HS256 claims of plain types cannot fail.
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).expect("HS256 encoding of plain claims")
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// 32 random bytes, URL-safe, with a prefix saying what the token is for.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Refresh tokens and API keys carry 256 random bits, so a fast hash is enough
/// to keep them useless to someone who reads the database.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    // Argon2 with default parameters hashes any password of bounded length.
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// How many argon2 hashes may run at once: one per core. Each takes tens of milliseconds of a
/// core and 19 MiB; a burst of logins waits its turn instead of taking every blocking thread.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Runs password hashing or verifying on a blocking thread, a few at a time (see [`hashing_permits`]).
pub async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, crate::error::ApiError> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|_| crate::error::ApiError::Internal("password hashing is shut down".into()))?;
    Ok(actix_web::web::block(work).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_with_their_key() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let (person, org) = (Uuid::now_v7(), Uuid::now_v7());
        let claims = keys.verify(&keys.issue(person, org, true, 60)).unwrap();
        assert_eq!((claims.sub, claims.org, claims.adm), (person, org, true));
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        assert!(other.verify(&keys.issue(person, org, true, 60)).is_none());
        assert!(keys.verify(&keys.issue(person, org, true, -60)).is_none(), "expired");
    }

    #[test]
    fn passwords_verify_against_their_hash() {
        let hash = hash_password("correct horse");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("correct horsf", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[actix_web::test]
    async fn no_more_hashes_run_at_once_than_there_are_permits() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (running, most) = (running.clone(), most.clone());
                actix_web::rt::spawn(hashing(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
        let most = most.load(Ordering::SeqCst);
        assert!(most >= 1 && most <= permits, "{most} at once with {permits} permits");
    }

    #[test]
    fn random_tokens_differ() {
        let (a, b) = (random_token("rt_"), random_token("rt_"));
        assert!(a.starts_with("rt_") && a.len() > 40);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
