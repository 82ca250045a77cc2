use super::*;

fn file(path: &[&str], size: u64) -> Entry {
    Entry::File {
        path: path.iter().map(|p| p.to_string()).collect(),
        size,
        mode: 0o644,
    }
}

fn dir(path: &[&str]) -> Entry {
    Entry::Dir {
        path: path.iter().map(|p| p.to_string()).collect(),
    }
}

/// The refusal `entries` get, with the entry it names.
fn refusal(entries: Vec<Entry>) -> (Option<String>, Refusal) {
    let err = Manifest::new(entries).unwrap_err();
    (err.entry, err.reason)
}

/// The refusal of a received manifest (JSON) announcing `size` bytes.
fn refused(json: &str, size: u64) -> Refusal {
    Manifest::decode(json.as_bytes(), size).unwrap_err().reason
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn a_manifest_round_trips_with_modes_masked() {
    let manifest = Manifest::new(vec![
        dir(&["photos"]),
        file(&["photos", "a.jpg"], 5),
        dir(&["photos", "empty"]),
        Entry::File {
            path: vec!["run.sh".into()],
            size: 7,
            mode: 0o104_755,
        },
        file(&["日本語", "ファイル.txt"], 0),
    ])
    .unwrap();
    assert_eq!(manifest.total_size(), 12);
    assert_eq!(manifest.file_count(), 3);
    // setuid and the file-type bits are dropped.
    assert!(matches!(
        manifest.entries()[3],
        Entry::File { mode: 0o755, .. }
    ));
    let bytes = manifest.encode();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.starts_with(r#"[{"dir":["photos"]},{"file":["photos","a.jpg"],"size":5,"mode":420}"#),
        "{text}"
    );
    assert_eq!(Manifest::decode(&bytes, 12).unwrap(), manifest);
    // A received mode is masked too.
    let got = Manifest::decode(br#"[{"file":["x"],"size":1,"mode":3565}]"#, 1).unwrap();
    assert!(matches!(got.entries()[0], Entry::File { mode: 0o755, .. }));
    assert_eq!(manifest.entries()[1].display(), "photos/a.jpg");
    assert_eq!(manifest.entries()[2].display(), "photos/empty/");
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn every_unsafe_path_is_refused_naming_its_entry() {
    let cases: &[(&[&str], Refusal)] = &[
        (&[], Refusal::EmptyPath),
        (&["", "etc", "x"], Refusal::Absolute),
        (&["/etc/x"], Refusal::Absolute),
        (&["a", ""], Refusal::EmptyComponent),
        (&[""], Refusal::EmptyComponent),
        (&[".."], Refusal::DotComponent),
        (&["a", "..", "..", "x"], Refusal::DotComponent),
        (&[".", "x"], Refusal::DotComponent),
        (&["a/../../x"], Refusal::Slash),
        (&["a", "b/c"], Refusal::Slash),
        (&["a\\..\\x"], Refusal::Backslash),
        (&["C:", "x"], Refusal::DriveLetter),
        (&["c:x"], Refusal::DriveLetter),
        (&["a\0b"], Refusal::HiddenCharacter),
        (&["bad\nname"], Refusal::HiddenCharacter),
        (&["x\u{1b}[31m"], Refusal::HiddenCharacter),
        (&["photo\u{202e}gpj.exe"], Refusal::HiddenCharacter),
        (&["a\u{2066}"], Refusal::HiddenCharacter),
    ];
    for (path, want) in cases {
        for entry in [file(path, 0), dir(path)] {
            let (named, got) = refusal(vec![file(&["ok"], 0), entry]);
            assert_eq!(got, *want, "{path:?}");
            assert_eq!(named, Some(show_path(&entry_path(path))), "{path:?}");
        }
    }
    let long = "é".repeat(128);
    assert_eq!(
        refusal(vec![file(&[&long], 0)]).1,
        Refusal::ComponentTooLong
    );
    let fits = "é".repeat(127);
    Manifest::new(vec![file(&[&fits], 0)]).unwrap();
    let deep: Vec<&str> = vec!["d"; MAX_DEPTH + 1];
    assert_eq!(refusal(vec![file(&deep, 0)]).1, Refusal::TooDeep);
    Manifest::new(vec![file(&deep[1..], 0)]).unwrap();
    // Hidden characters are escaped where a path is shown.
    let err = Manifest::new(vec![file(&["a\u{202e}b"], 0)]).unwrap_err();
    assert_eq!(err.entry.as_deref(), Some("a\\u{202e}b"));
    assert!(
        err.to_string().contains("control or text-direction"),
        "{err}"
    );
}

fn entry_path(path: &[&str]) -> Vec<String> {
    path.iter().map(|p| p.to_string()).collect()
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn duplicates_in_any_case_and_entries_inside_files_are_refused() {
    let dup = refusal(vec![file(&["a", "x"], 1), file(&["a", "x"], 2)]);
    assert_eq!(dup, (Some("a/x".into()), Refusal::Duplicate));
    let dup = refusal(vec![
        file(&["Photos", "A.JPG"], 1),
        file(&["photos", "a.jpg"], 2),
    ]);
    assert_eq!(dup, (Some("photos/a.jpg".into()), Refusal::Duplicate));
    assert_eq!(
        refusal(vec![dir(&["ΣΑ"]), dir(&["σα"])]).1,
        Refusal::Duplicate
    );
    assert_eq!(
        refusal(vec![dir(&["a"]), file(&["a"], 0)]).1,
        Refusal::Duplicate
    );
    // A file "a" and anything under "a/", in either order and any case.
    for entries in [
        vec![file(&["a"], 0), file(&["a", "b"], 0)],
        vec![file(&["a", "b", "c"], 0), file(&["A"], 0)],
        vec![file(&["a"], 0), dir(&["a", "d"])],
    ] {
        assert_eq!(refusal(entries).1, Refusal::InsideFile);
    }
    // A directory above files is what a folder is.
    Manifest::new(vec![
        dir(&["a"]),
        file(&["a", "b"], 0),
        file(&["a", "c", "d"], 0),
    ])
    .unwrap();
    // Names that only share a prefix are distinct.
    Manifest::new(vec![file(&["ab"], 0), file(&["a", "b"], 0)]).unwrap();
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn received_manifests_are_bounded_shaped_and_sum_to_the_header() {
    let one = r#"[{"file":["a"],"size":3,"mode":420}]"#;
    Manifest::decode(one.as_bytes(), 3).unwrap();
    assert_eq!(refused(one, 4), Refusal::SizeMismatch);
    assert_eq!(refused(one, 2), Refusal::SizeMismatch);
    let overflow = format!(
        r#"[{{"file":["a"],"size":{m},"mode":0}},{{"file":["b"],"size":{m},"mode":0}}]"#,
        m = u64::MAX
    );
    assert_eq!(refused(&overflow, u64::MAX), Refusal::SizeMismatch);
    assert_eq!(refused("[]", 0), Refusal::Empty);
    for malformed in [
        "",
        "{}",
        r#"[{"file":["a"],"size":3,"mode":420,"owner":"root"}]"#,
        r#"[{"file":["a"],"size":3}]"#,
        r#"[{"dir":["a"],"size":3}]"#,
        r#"[{"dir":["a"],"file":["b"],"size":0,"mode":0}]"#,
        r#"[{"size":0,"mode":0}]"#,
        r#"[{"file":"a/b","size":0,"mode":0}]"#,
        r#"[{"file":["a"],"size":-1,"mode":0}]"#,
    ] {
        assert_eq!(refused(malformed, 3), Refusal::Malformed, "{malformed}");
    }
    let too_big = vec![b' '; MAX_MANIFEST_BYTES as usize + 1];
    assert_eq!(
        Manifest::decode(&too_big, 0).unwrap_err().reason,
        Refusal::TooLarge
    );
    // A path a million components deep keeps only MAX_DEPTH of them while parsing.
    let deep = format!(r#"[{{"dir":[{}"x"]}}]"#, r#""d","#.repeat(1_000_000));
    let err = Manifest::decode(deep.as_bytes(), 0).unwrap_err();
    assert_eq!(err.reason, Refusal::TooDeep);
    assert!(err.entry.unwrap().len() < 4 * MAX_DEPTH);
}

#[cfg_attr(not(target_arch = "wasm32"), test)]
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
fn too_many_entries_are_counted_not_kept() {
    let entries = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!(r#"{{"dir":["{i}"]}}"#)).collect();
        format!("[{}]", list.join(","))
    };
    Manifest::decode(entries(MAX_ENTRIES).as_bytes(), 0).unwrap();
    assert_eq!(
        refused(&entries(MAX_ENTRIES + 1), 0),
        Refusal::TooManyEntries
    );
    // 10⁶ entries within the byte bound: refused, only MAX_ENTRIES of them ever parsed into
    // memory (the rest are skipped as they are counted).
    let million = format!("[{}{{}}]", "{},".repeat(999_999));
    assert!(million.len() as u64 <= MAX_MANIFEST_BYTES);
    assert_eq!(refused(&million, 0), Refusal::TooManyEntries);
    let too_many: Vec<Entry> = (0..=MAX_ENTRIES).map(|i| dir(&[&i.to_string()])).collect();
    assert_eq!(refusal(too_many).1, Refusal::TooManyEntries);
}
