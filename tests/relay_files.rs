//! Several files and folders in one transfer (issue 14), CLI → CLI through a real relay: a tree
//! of 1,000 small files and 3 large ones arrives byte-identical; hostile manifests from a
//! hand-driven malicious sender are refused before anything is written.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use common::{TestServer, listing, malicious_sender};
use rand::{Rng, RngCore, SeedableRng, rngs::StdRng};
use sha2::{Digest, Sha256};
use std::{
    collections::BTreeMap,
    net::IpAddr,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};
use zkrelay::cli::transfer::{self, Consent, Destination, Endpoint, Payload};
use zkrelay::protocol::relay::{Code, Header, MAX_FRAME_PLAINTEXT, Sealer};

fn endpoint(server: &TestServer, last: u8) -> Endpoint {
    Endpoint {
        server: server.url(""),
        bind: Some(IpAddr::from([127, 0, 0, last])),
    }
}

fn accept_all() -> Consent {
    Box::new(|_| Ok(()))
}

/// Every path under `root` (relative, `/`-joined; folders end in `/`) with its content's
/// SHA-256 and mode (folders: none).
fn tree(root: &Path) -> BTreeMap<String, Option<(String, u32)>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                out.insert(format!("{rel}/"), None);
                stack.push(path);
            } else {
                let digest = hex::encode(Sha256::digest(std::fs::read(&path).unwrap()));
                out.insert(rel, Some((digest, meta.permissions().mode() & 0o777)));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_1000_files_and_3_large_ones_arrive_byte_identical() {
    let server = TestServer::start(|_| {}).await;
    let src = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(14);
    let folder = src.path().join("photos");
    for i in 0..1000 {
        let sub = folder
            .join(format!("d{}", i % 7))
            .join(format!("e{}", i % 3));
        std::fs::create_dir_all(&sub).unwrap();
        let mut bytes = vec![0u8; rng.gen_range(0..20_000)];
        rng.fill_bytes(&mut bytes);
        let file = sub.join(format!("f{i:04}.bin"));
        std::fs::write(&file, &bytes).unwrap();
        if i % 10 == 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o750)).unwrap();
        }
    }
    std::fs::create_dir_all(folder.join("empty")).unwrap();
    // A symbolic link inside the folder is skipped, never followed.
    std::os::unix::fs::symlink("/etc/passwd", folder.join("link")).unwrap();
    let mut large = Vec::new();
    for (i, mb) in [8usize, 12, 20].into_iter().enumerate() {
        let mut bytes = vec![0u8; mb << 20];
        rng.fill_bytes(&mut bytes);
        let path = src.path().join(format!("large{i}.bin"));
        std::fs::write(&path, &bytes).unwrap();
        large.push(path);
    }
    let mut paths = vec![folder.clone()];
    paths.extend(large.iter().cloned());

    let dir = tempfile::tempdir().unwrap();
    let code = "514000-cedar-comet-maple-otter-tulip";
    let sender = {
        let ep = endpoint(&server, 2);
        let payload = Payload::Files(paths);
        tokio::spawn(async move { transfer::send(&ep, payload, Some(code), |_| {}).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let dest = Destination::Folder(dir.path().to_owned());
    let got = transfer::receive_asking(&endpoint(&server, 3), code, &dest, accept_all())
        .await
        .unwrap();
    let sent = sender.await.unwrap().unwrap();
    assert_eq!(sent.kind, "files");
    assert_eq!(got.bytes, sent.bytes);
    let want: Vec<PathBuf> = ["photos", "large0.bin", "large1.bin", "large2.bin"]
        .iter()
        .map(|n| dir.path().join(n))
        .collect();
    assert_eq!(got.files, want);
    let mut expected = tree(src.path());
    expected.remove("photos/link");
    let arrived = tree(dir.path());
    assert_eq!(
        arrived.len(),
        1000 + 3 + 1 + 1 + 7 + 21,
        "files and folders"
    );
    assert_eq!(arrived, expected);
    assert!(arrived.contains_key("photos/empty/"));
    assert_eq!(arrived["photos/d0/e0/f0000.bin"].as_ref().unwrap().1, 0o750);
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_files_are_declined_unless_asked_for_and_an_existing_folder_is_kept() {
    let server = TestServer::start(|_| {}).await;
    let src = tempfile::tempdir().unwrap();
    std::fs::create_dir(src.path().join("docs")).unwrap();
    std::fs::write(src.path().join("docs/a.txt"), b"new a").unwrap();
    std::fs::write(src.path().join("b.txt"), b"new b").unwrap();
    let paths = vec![src.path().join("docs"), src.path().join("b.txt")];
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(dir.path().join("docs/a.txt"), b"old a").unwrap();
    for (round, asked) in [(0, false), (1, true)] {
        let code = format!("51{round}100-cedar-comet-maple-otter-tulip");
        let sender = {
            let (ep, code, payload) = (
                endpoint(&server, 2),
                code.clone(),
                Payload::Files(paths.clone()),
            );
            tokio::spawn(async move { transfer::send(&ep, payload, Some(&code), |_| {}).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (ep, dest) = (
            endpoint(&server, 3),
            Destination::Folder(dir.path().to_owned()),
        );
        let got = if asked {
            transfer::receive_asking(&ep, &code, &dest, accept_all()).await
        } else {
            transfer::receive(&ep, &code, &dest).await
        };
        let sent = sender.await.unwrap();
        if !asked {
            assert!(got.unwrap_err().to_string().contains("declined"));
            assert!(sent.unwrap_err().to_string().contains("declined"));
            assert_eq!(listing(dir.path()), ["docs"]);
            continue;
        }
        sent.unwrap();
        let got = got.unwrap();
        // The existing folder is neither merged into nor overwritten: "docs (1)".
        assert_eq!(
            got.files,
            [dir.path().join("docs (1)"), dir.path().join("b.txt")]
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("docs/a.txt")).unwrap(),
        b"old a"
    );
    assert_eq!(
        std::fs::read(dir.path().join("docs (1)/a.txt")).unwrap(),
        b"new a"
    );
    assert_eq!(listing(dir.path()), ["b.txt", "docs", "docs (1)"]);
    server.stop().await.unwrap();
}

/// The frames of a `files` transfer with `manifest` (sent as is) announcing `size` bytes, then
/// `content` as the final frame.
fn files_stream(key: &[u8; 32], manifest: &[u8], size: u64, content: &[u8]) -> Vec<u8> {
    let mut sealer = Sealer::new(key);
    let mut out = Vec::new();
    let header = Header::files(manifest.len() as u64, size);
    sealer.seal_into(&header.encode(), false, &mut out).unwrap();
    for part in manifest.chunks(MAX_FRAME_PLAINTEXT) {
        sealer.seal_into(part, false, &mut out).unwrap();
    }
    sealer.seal_into(content, true, &mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_manifests_are_refused_before_anything_is_written() {
    let million_dirs = format!(
        "[{}]",
        (0..1_000_000)
            .map(|i| format!(r#"{{"dir":["{i}"]}}"#))
            .collect::<Vec<_>>()
            .join(",")
    );
    let million_entries = format!("[{}{{}}]", "{},".repeat(999_999));
    let f = |path: &str, size: u64| format!(r#"[{{"file":{path},"size":{size},"mode":420}}]"#);
    let cases: Vec<(&str, String, u64, &str, bool)> = vec![
        (
            "../x",
            f(r#"["..","x"]"#, 4),
            4,
            "a . or .. component",
            false,
        ),
        ("/etc/x", f(r#"["/etc/x"]"#, 4), 4, "absolute", false),
        (
            "/etc/x split",
            f(r#"["","etc","x"]"#, 4),
            4,
            "absolute",
            false,
        ),
        (
            "a/../../x",
            f(r#"["a","..","..","x"]"#, 4),
            4,
            "a . or .. component",
            false,
        ),
        (
            "a/../../x in one",
            f(r#"["a/../../x"]"#, 4),
            4,
            "contains /",
            false,
        ),
        ("C:\\x", f(r#"["C:\\x"]"#, 4), 4, "backslash", false),
        (
            "escape",
            f(r#"["bad\u001b[31mname"]"#, 4),
            4,
            "control",
            false,
        ),
        (
            "bidi",
            f(r#"["photo\u202egpj.exe"]"#, 4),
            4,
            "text-direction",
            false,
        ),
        ("sizes", f(r#"["x"]"#, 4), 5, "do not add up", false),
        (
            "duplicate",
            r#"[{"file":["a"],"size":2,"mode":420},{"file":["A"],"size":2,"mode":420}]"#.into(),
            4,
            "listed twice",
            false,
        ),
        (
            "inside a file",
            r#"[{"file":["a"],"size":2,"mode":420},{"file":["a","b"],"size":2,"mode":420}]"#.into(),
            4,
            "inside a file",
            false,
        ),
        ("10^6 folders", million_dirs, 0, "larger than 16 MiB", false),
        (
            "10^6 entries",
            million_entries,
            0,
            "more than 100000 entries",
            false,
        ),
        (
            "planted symlink",
            r#"[{"dir":["dir"]},{"file":["dir","x"],"size":4,"mode":420}]"#.into(),
            4,
            "symbolic link",
            true,
        ),
    ];
    let server = TestServer::start(|_| {}).await;
    for (what, manifest, size, expected, asks) in cases {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.txt"), b"mine").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("dir")).unwrap();
        let before = listing(dir.path());
        let asked = Arc::new(AtomicBool::new(false));
        let consent: Consent = {
            let asked = asked.clone();
            Box::new(move |_| {
                asked.store(true, Ordering::SeqCst);
                Ok(())
            })
        };
        let code = Code::parse("comet-maple-otter-tulip").unwrap();
        let manifest = manifest.into_bytes();
        let attacker = malicious_sender(&server, &code, move |key| {
            files_stream(key, &manifest, size, b"evil")
        });
        let (ep, dest) = (
            endpoint(&server, 3),
            Destination::Folder(dir.path().to_owned()),
        );
        let receiver =
            transfer::receive_asking(&ep, "666666-cedar-comet-maple-otter-tulip", &dest, consent);
        let ((), got) = tokio::join!(attacker, async {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            receiver.await
        });
        let err = got.unwrap_err().to_string();
        assert!(err.contains(expected), "{what}: {err}");
        assert_eq!(asked.load(Ordering::SeqCst), asks, "{what}: asked");
        assert_eq!(listing(dir.path()), before, "{what}: the folder changed");
        assert!(
            listing(outside.path()).is_empty(),
            "{what}: written through the link"
        );
        // Wait for the relay to free the channel before the next attack reuses its name.
        for _ in 0..100 {
            if server.state.relay.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    server.stop().await.unwrap();
}
