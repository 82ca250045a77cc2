//! The channel table's rules, one test each.

use super::*;
use crate::api::ErrorCode;

/// What an address hears of a channel it may not use, or of one that does not exist.
fn not_yours() -> ApiError {
    ChannelError::NotYours.into()
}

/// The loopback address 127.0.0.`last`: one person each.
fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

fn table(ttl: Duration) -> Channels<Vec<&'static str>> {
    Channels::new(Limits {
        ttl,
        max_channels: 10,
    })
}

fn counter() -> impl FnMut() -> String {
    let mut n = 1000;
    move || {
        n += 1;
        n.to_string()
    }
}

#[test]
fn two_seats_two_addresses_and_nothing_more() {
    let t = table(Duration::from_secs(60));
    let a = t.create(ip(2), None, Side::A, counter()).unwrap();
    assert_eq!(a.channel, "1001");
    let b = t.join(ip(3), &a.channel, Side::B, |_| {}).unwrap();
    assert_ne!(a.uuid, b.uuid);
    // Both seats are taken; a third address hears what it would hear of no channel at all.
    let third = t
        .join(ip(4), &a.channel, Side::B, |s| s.push("tried"))
        .unwrap_err();
    let missing = t.join(ip(4), "nothing-here", Side::B, |_| {}).unwrap_err();
    assert_eq!(third, missing);
    assert_eq!(third, ChannelError::NotYours);
    let taken = t.join(ip(3), &a.channel, Side::B, |_| {}).unwrap_err();
    assert_eq!(taken, ChannelError::SeatTaken);
    assert_eq!(ApiError::from(taken).code, ErrorCode::Conflict);
    let read = t
        .read_seat(&a.channel, ip(4), &a.uuid, |_, _| Ok(()))
        .unwrap_err();
    assert_eq!(read, not_yours());
    // The two already there are unaffected (and see the refused attempts noted).
    t.with_seat(&a.channel, ip(2), &a.uuid, |side, s| {
        assert_eq!(side, Side::A);
        s.push("x");
        Ok(())
    })
    .unwrap();
    let seen = t.read_seat(&a.channel, ip(3), &b.uuid, |side, s| Ok((side, s.clone())));
    assert_eq!(seen.unwrap(), (Side::B, vec!["tried", "x"]));
    // A wrong uuid proves nothing.
    let wrong = t
        .read_seat(&a.channel, ip(2), "00", |_, _| Ok(()))
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Forbidden);
    t.close(&a.channel, ip(3), &b.uuid).unwrap();
    assert!(t.is_empty());
}

#[test]
fn a_stranger_cannot_take_a_free_seat_beside_two_people_on_one_address() {
    let t = table(Duration::from_secs(60));
    let a = t.create(ip(2), Some("chan"), Side::A, counter()).unwrap();
    // Sender and recipient behind one address (a NAT): the channel has one address.
    t.join(ip(2), "chan", Side::B, |_| {}).unwrap();
    assert_eq!(
        t.join(ip(5), "chan", Side::B, |_| {}).unwrap_err(),
        ChannelError::NotYours
    );
    assert_eq!(
        t.join(ip(5), "chan", Side::A, |_| {}).unwrap_err(),
        ChannelError::NotYours
    );
    t.close("chan", ip(2), &a.uuid).unwrap();
}

#[test]
fn a_vacated_seat_is_open_to_another_address_and_the_other_seat_stays() {
    let t = table(Duration::from_secs(60));
    let a = t.create(ip(2), Some("run"), Side::A, counter()).unwrap();
    let b = t.join(ip(3), "run", Side::B, |_| {}).unwrap();
    assert_eq!(
        t.join(ip(4), "run", Side::B, |_| {}).unwrap_err(),
        ChannelError::NotYours
    );
    assert_eq!(t.vacate("run", ip(3), &b.uuid).unwrap(), Side::B);
    // The uuid and the address are gone from the channel; seat A is untouched.
    assert_eq!(
        t.read_seat("run", ip(3), &b.uuid, |_, _| Ok(()))
            .unwrap_err(),
        not_yours()
    );
    t.read_seat("run", ip(2), &a.uuid, |side, _| {
        assert_eq!(side, Side::A);
        Ok(())
    })
    .unwrap();
    let c = t.join(ip(4), "run", Side::B, |_| {}).unwrap();
    assert_eq!(
        t.join(ip(3), "run", Side::B, |_| {}).unwrap_err(),
        ChannelError::NotYours
    );
    // Two seats from one address: vacating one keeps the address for the other.
    t.vacate("run", ip(4), &c.uuid).unwrap();
    let d = t.join(ip(2), "run", Side::B, |_| {}).unwrap();
    t.vacate("run", ip(2), &d.uuid).unwrap();
    t.read_seat("run", ip(2), &a.uuid, |_, _| Ok(())).unwrap();
    // A wrong uuid or a stranger frees nothing.
    assert_eq!(
        t.vacate("run", ip(2), "00").unwrap_err(),
        ChannelError::NotYourSeat
    );
    assert_eq!(
        t.vacate("run", ip(5), &a.uuid).unwrap_err(),
        ChannelError::NotYours
    );
    assert_eq!(t.len(), 1);
}

#[test]
fn ipv4_mapped_and_ipv6_64_are_one_address() {
    let t = table(Duration::from_secs(60));
    let v4: IpAddr = "192.0.2.1".parse().unwrap();
    let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
    let a = t.create(v4, None, Side::A, counter()).unwrap();
    t.read_seat(&a.channel, mapped, &a.uuid, |_, _| Ok(()))
        .unwrap();
    let six: IpAddr = "2001:db8::1".parse().unwrap();
    let same_64: IpAddr = "2001:db8::2".parse().unwrap();
    let b = t.join(six, &a.channel, Side::B, |_| {}).unwrap();
    t.read_seat(&a.channel, same_64, &b.uuid, |_, _| Ok(()))
        .unwrap();
    let other_64: IpAddr = "2001:db8:0:1::1".parse().unwrap();
    assert_eq!(
        t.read_seat(&a.channel, other_64, &b.uuid, |_, _| Ok(()))
            .unwrap_err(),
        not_yours()
    );
}

#[test]
fn names_are_checked_and_the_table_bounded() {
    let t = table(Duration::from_secs(60));
    for bad in ["", "a/b", "a b", &"x".repeat(65), "ä"] {
        assert_eq!(
            t.create(ip(2), Some(bad), Side::A, counter()).unwrap_err(),
            ChannelError::BadName
        );
        assert_eq!(
            t.join(ip(2), bad, Side::B, |_| {}).unwrap_err(),
            ChannelError::BadName
        );
    }
    t.create(ip(2), Some("named"), Side::A, counter()).unwrap();
    let again = t.create(ip(3), Some("named"), Side::A, counter());
    assert_eq!(again.unwrap_err(), ChannelError::NameTaken);
    let mut fresh = counter();
    for i in 0..9 {
        t.create(ip(10 + i), None, Side::A, &mut fresh).unwrap();
    }
    let full = t.create(ip(30), None, Side::A, counter()).unwrap_err();
    assert_eq!(full, ChannelError::Full);
    assert_eq!(ApiError::from(full).code, ErrorCode::Unavailable);
}

#[test]
fn the_sweeper_frees_expired_channels_but_not_held_ones() {
    let t = table(Duration::from_millis(10));
    let a = t.create(ip(2), Some("chan"), Side::A, counter()).unwrap();
    t.create(ip(2), Some("held"), Side::A, counter()).unwrap();
    assert!(t.set_expiry("held", None));
    assert_eq!(t.sweep(Instant::now()), 0);
    assert_eq!(t.sweep(Instant::now() + Duration::from_millis(20)), 1);
    let gone = t
        .read_seat("chan", ip(2), &a.uuid, |_, _| Ok(()))
        .unwrap_err();
    assert_eq!(gone.code, ErrorCode::NotFound);
    assert!(t.watch("held").is_some());
    assert!(!t.set_expiry("chan", None));
}

#[tokio::test]
async fn waiters_wake_on_change_and_on_close() {
    let t = table(Duration::from_secs(60));
    let a = t.create(ip(2), None, Side::A, counter()).unwrap();
    let b = t.join(ip(3), &a.channel, Side::B, |_| {}).unwrap();
    let waiter = {
        let (t, name, uuid) = (t.clone(), a.channel.clone(), a.uuid.clone());
        tokio::spawn(async move {
            t.wait_for(&name, ip(2), &uuid, Duration::from_secs(10), |_, s| {
                Ok(s.first().copied())
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    t.with_seat(&a.channel, ip(3), &b.uuid, |_, s| {
        s.push("y");
        Ok(())
    })
    .unwrap();
    assert_eq!(waiter.await.unwrap().unwrap(), Some("y"));
    // Not yet: a short wait returns None.
    let none = t
        .wait_for(
            &a.channel,
            ip(2),
            &a.uuid,
            Duration::from_millis(10),
            |_, s| Ok(s.get(5).copied()),
        )
        .await;
    assert_eq!(none.unwrap(), None);
    let closing = {
        let (t, name, uuid) = (t.clone(), a.channel.clone(), a.uuid.clone());
        tokio::spawn(async move {
            t.wait_for(&name, ip(2), &uuid, Duration::from_secs(10), |_, s| {
                Ok(s.get(5).copied())
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    t.close(&a.channel, ip(2), &a.uuid).unwrap();
    assert_eq!(
        closing.await.unwrap().unwrap_err(),
        ApiError::from(ChannelError::Closed)
    );
}

#[test]
fn a_busy_channel_does_not_hold_up_another() {
    use std::sync::mpsc;
    let t = table(Duration::from_secs(60));
    let slow = t.create(ip(2), Some("slow"), Side::A, counter()).unwrap();
    let fast = t.create(ip(3), Some("fast"), Side::A, counter()).unwrap();
    let (inside, is_inside) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let busy = {
        let t = t.clone();
        std::thread::spawn(move || {
            t.with_seat("slow", ip(2), &slow.uuid, |_, s| {
                inside.send(()).unwrap();
                s.push("slow");
                // Holds the slow channel's lock until the other channel's work is done.
                Ok(released.recv_timeout(Duration::from_secs(5)).is_ok())
            })
            .unwrap()
        })
    };
    is_inside.recv().unwrap();
    // The table and the other channel are free meanwhile.
    t.with_seat("fast", ip(3), &fast.uuid, |_, s| {
        s.push("fast");
        Ok(())
    })
    .unwrap();
    t.create(ip(4), Some("third"), Side::A, counter()).unwrap();
    assert_eq!(t.len(), 3);
    release.send(()).unwrap();
    assert!(
        busy.join().unwrap(),
        "the other channel waited for the slow one"
    );
}

/// Waits (up to 5 s) for `done`.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn the_sweeper_sleeps_to_the_earliest_deadline_and_is_woken_for_an_earlier_one() {
    let t = table(Duration::from_secs(600));
    t.create(ip(2), Some("late"), Side::A, counter()).unwrap();
    let sweeper = t.spawn_sweeper();
    // The sweeper now sleeps until "late" expires, ten minutes away. An earlier deadline must
    // wake it: it frees "soon" within moments, not at the next tick of any period.
    t.create(ip(3), Some("soon"), Side::A, counter()).unwrap();
    assert!(t.set_expiry("soon", Some(Instant::now() + Duration::from_millis(30))));
    assert!(eventually(|| t.len() == 1).await, "soon was not freed");
    assert!(t.watch("late").is_some() && t.watch("soon").is_none());
    // A held channel is never swept; lifting the hold puts it back in line.
    t.create(ip(4), Some("held"), Side::A, counter()).unwrap();
    assert!(t.set_expiry("held", None));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(t.watch("held").is_some());
    assert!(t.set_expiry("held", Some(Instant::now())));
    assert!(eventually(|| t.watch("held").is_none()).await);
    assert!(!sweeper.is_finished());
}

#[tokio::test]
async fn dropping_the_sweeper_stops_its_task() {
    let t = table(Duration::from_secs(600));
    t.create(ip(2), Some("late"), Side::A, counter()).unwrap();
    let alone = Arc::strong_count(&t.inner);
    let sweeper = t.spawn_sweeper();
    assert!(eventually(|| Arc::strong_count(&t.inner) == alone + 2).await);
    drop(sweeper);
    // The task let go of the table: it returned, though its deadline is ten minutes away.
    assert!(
        eventually(|| Arc::strong_count(&t.inner) == alone).await,
        "the sweeper still runs"
    );
    assert_eq!(t.len(), 1);
}

#[test]
fn a_closed_or_removed_channel_frees_its_state_and_its_name() {
    let t = table(Duration::from_secs(60));
    let a = t.create(ip(2), Some("chan"), Side::A, counter()).unwrap();
    t.with_seat("chan", ip(2), &a.uuid, |_, s| {
        s.push("x");
        Ok(())
    })
    .unwrap();
    let changes = t.watch("chan").unwrap();
    assert_eq!(t.remove("chan"), Some(vec!["x"]));
    assert_eq!(t.remove("chan"), None);
    // Receivers end, and the name can be taken again with nothing of the old channel.
    assert!(changes.has_changed().is_err());
    let again = t.create(ip(3), Some("chan"), Side::A, counter()).unwrap();
    assert_eq!(
        t.read_seat("chan", ip(3), &again.uuid, |_, s| Ok(s.clone()))
            .unwrap(),
        Vec::<&str>::new()
    );
    assert_eq!(
        t.read_seat("chan", ip(2), &a.uuid, |_, _| Ok(()))
            .unwrap_err(),
        not_yours()
    );
    assert_eq!(t.sweep(Instant::now() + Duration::from_secs(61)), 1);
    assert!(t.is_empty());
}
