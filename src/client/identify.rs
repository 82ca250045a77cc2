//! Identify in the browser: Peggy's and Victor's run sockets, driving the same pure state
//! machines as the CLI ([`crate::protocol::identify`]). The pages turn [`Update`]s into what
//! people see.
//!
//! Peggy's seat secret stays in this page: it goes only into her socket's URL. When her Victor
//! leaves before the verdict she gets [`PeggyEvent::Unpaired`] and keeps waiting.

use super::{Link, Socket, SocketEvent};
use crate::{
    api::{self, DemoModulus, Registered},
    protocol::{
        ffs::{PublicKey, SecretKey},
        identify::{
            Message, PeggyCard, PeggyEvent, PeggyRun, ProtocolError, VictorEvent, VictorRun,
            readable,
        },
    },
    rng::os_rng,
};
use std::{cell::RefCell, rc::Rc};

/// Largest message the page reads (Victor's `paired` carries a key of up to 64 × 4096 bits).
const MAX_MESSAGE: usize = 256 * 1024;

/// Something that happened in a run.
#[derive(Debug, Clone)]
pub enum Update<E> {
    /// Both seats are taken. Victor's copy names the Peggy and carries her public key.
    Paired {
        peggy: Option<PeggyCard>,
        key: Option<PublicKey>,
    },
    /// A step of the protocol.
    Event(E),
    /// Victor: a commitment waits for a challenge (step or manual mode).
    ChallengeDue { round: u32 },
    /// The run is over. `finished` is true when it ended normally, after the verdict.
    Ended { finished: bool, reason: String },
}

/// Peggy's keys, made in this page: the secrets never leave it. A cheating Peggy dropped hers
/// (`key` is `None`) and has only the public key.
pub struct PeggyKeys {
    pub key: Option<SecretKey>,
    pub public: PublicKey,
    pub registered: Registered,
    /// Time the key generation took, in milliseconds.
    pub keygen_ms: f64,
}

/// Draws a modulus (from the pool, or the `demo` one), makes k secrets and the public key here,
/// and registers `name`. On the Handbook's n she takes the book's key (k = 3). With `cheat` the
/// secrets are thrown away once the public key is made: she will have to guess.
pub async fn register(
    name: &str,
    k: usize,
    cheat: bool,
    demo: Option<DemoModulus>,
) -> Result<PeggyKeys, String> {
    let drawn = api::draw_modulus(demo).await.map_err(|e| e.message)?;
    let started = super::now_ms();
    let key = drawn.make_key(&mut os_rng(), demo, k)?;
    let keygen_ms = super::now_ms() - started;
    let public_key = serde_json::to_string(key.public_key()).map_err(|e| e.to_string())?;
    let registered = api::register_peggy(name.to_owned(), drawn.modulus_id, public_key)
        .await
        .map_err(|e| e.message)?;
    Ok(PeggyKeys {
        public: key.public_key().clone(),
        key: (!cheat).then_some(key),
        registered,
        keygen_ms,
    })
}

/// How a socket's end reads to people: the server's error if it sent one, else the close reason.
struct Ending {
    error: Option<String>,
    finished: bool,
    /// The handshake went through (a refused one, e.g. a rate limit, never opens).
    opened: bool,
}

impl Ending {
    fn new() -> Rc<RefCell<Self>> {
        Rc::new(RefCell::new(Self {
            error: None,
            finished: false,
            opened: false,
        }))
    }
}

fn ended<E>(ending: &Rc<RefCell<Ending>>, code: u16, reason: String) -> Update<E> {
    let ending = ending.borrow();
    let reason = match (&ending.error, reason.is_empty()) {
        (Some(error), _) => error.clone(),
        (None, false) => reason,
        (None, true) if !ending.opened => {
            "the server refused the connection (too many from your address? try again in a minute)"
                .to_owned()
        }
        (None, true) if code == 1006 => "the connection to the server broke".to_owned(),
        (None, true) => format!("the server closed the run ({code})"),
    };
    Update::Ended {
        finished: ending.finished && code == 1000,
        reason,
    }
}

/// Fails the run from this side: tells the other side why (by closing) and the page.
fn abort<E>(link: &Link, on: &mut (impl FnMut(Update<E>) + ?Sized), error: ProtocolError) {
    link.close();
    on(Update::Ended {
        finished: false,
        reason: error.to_string(),
    });
}

fn send(link: &Link, messages: &[Message]) {
    for m in messages {
        let _ = link.send_text(&m.to_json());
    }
}

/// Peggy's side of a run in progress: what she may do between messages.
#[derive(Clone)]
pub struct PeggyControl {
    run: Rc<RefCell<PeggyRun>>,
    public: PublicKey,
}

impl PeggyControl {
    /// Makes her next commitment use the decimal nonce `r` and sign `negative` (demo mode).
    pub fn choose_nonce(&self, r: &str, negative: bool) -> Result<(), String> {
        let r = readable::parse_nonce(r, &self.public)?;
        self.run
            .try_borrow_mut()
            .map_err(|_| "busy; try again".to_owned())?
            .choose_nonce(r, negative)
            .map_err(|e| format!("r: {e}"))
    }
}

/// Opens Peggy's run socket and answers Victor until the run ends.
pub fn peggy(
    keys: &PeggyKeys,
    mut on: impl FnMut(Update<PeggyEvent>) + 'static,
) -> Result<(Socket, PeggyControl), String> {
    let run = Rc::new(RefCell::new(match &keys.key {
        Some(key) => PeggyRun::new(key),
        None => PeggyRun::cheating(keys.public.clone()),
    }));
    let control = PeggyControl {
        run: run.clone(),
        public: keys.public.clone(),
    };
    let mut rng = os_rng();
    let ending = Ending::new();
    let path = format!(
        "/ws/identify/peggy?peggy_id={}&secret={}",
        keys.registered.peggy_id, keys.registered.peggy_secret
    );
    Socket::connect(&path, move |link, event| match event {
        SocketEvent::Text(text) => {
            let message = match Message::parse(&text, MAX_MESSAGE) {
                Ok(message) => message,
                Err(e) => return abort(link, &mut on, e),
            };
            match message {
                Message::Error { message, .. } => ending.borrow_mut().error = Some(message),
                Message::Paired { .. } => on(Update::Paired {
                    peggy: None,
                    key: None,
                }),
                message => {
                    let Ok(mut run) = run.try_borrow_mut() else {
                        return;
                    };
                    match run.handle(&mut rng, message) {
                        Ok(step) => {
                            ending.borrow_mut().finished = run.is_finished();
                            drop(run);
                            step.events.into_iter().for_each(|e| on(Update::Event(e)));
                            send(link, &step.send);
                        }
                        Err(e) => {
                            drop(run);
                            abort(link, &mut on, e)
                        }
                    }
                }
            }
        }
        SocketEvent::Closed { code, reason } => on(ended(&ending, code, reason)),
        SocketEvent::Open => ending.borrow_mut().opened = true,
        SocketEvent::Binary(_) => {}
    })
    .map(|socket| (socket, control))
}

/// How Victor challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Random bits, rounds without pause.
    Fast,
    /// Random bits, one round per click.
    Step,
    /// Bits Victor sets, one round per click.
    Manual,
}

/// Victor's side of a run in progress.
#[derive(Clone)]
pub struct VictorControl {
    link: Link,
    run: Rc<RefCell<Option<VictorRun>>>,
    on: Rc<RefCell<dyn FnMut(Update<VictorEvent>)>>,
}

impl VictorControl {
    /// Challenges the waiting commitment: random bits, or `bits` (exactly k of them).
    pub fn challenge(&self, bits: Option<Vec<bool>>) -> Result<(), String> {
        let mut run = self.run.borrow_mut();
        let run = run.as_mut().ok_or("the run has not started")?;
        let (event, message) = match bits {
            Some(bits) => run.challenge_with(bits),
            None => run.challenge(&mut os_rng()),
        }
        .map_err(|e| e.to_string())?;
        send(&self.link, &[message]);
        if let Ok(mut on) = self.on.try_borrow_mut() {
            on(Update::Event(event));
        }
        Ok(())
    }

    /// Leaves the run (the server tells Peggy).
    pub fn leave(&self) {
        self.link.close();
    }
}

/// Opens Victor's run socket with the Peggy `peggy_id` and runs `rounds` rounds in `mode`.
pub fn victor(
    peggy_id: &str,
    rounds: u32,
    mode: Mode,
    on: impl FnMut(Update<VictorEvent>) + 'static,
) -> Result<(Socket, VictorControl), String> {
    let run: Rc<RefCell<Option<VictorRun>>> = Rc::new(RefCell::new(None));
    let on: Rc<RefCell<dyn FnMut(Update<VictorEvent>)>> = Rc::new(RefCell::new(on));
    let ending = Ending::new();
    let path = format!("/ws/identify/victor?peggy_id={peggy_id}");
    let (state, report) = (run.clone(), on.clone());
    let socket = Socket::connect(&path, move |link, event| {
        let Ok(mut on) = report.try_borrow_mut() else {
            return;
        };
        let on = &mut *on;
        match event {
            SocketEvent::Text(text) => {
                let message = match Message::parse(&text, MAX_MESSAGE) {
                    Ok(message) => message,
                    Err(e) => return abort(link, on, e),
                };
                let mut run = state.borrow_mut();
                match (message, run.as_mut()) {
                    (Message::Error { message, .. }, _) => {
                        ending.borrow_mut().error = Some(message);
                    }
                    (
                        Message::Paired {
                            peggy,
                            public_key: Some(key),
                        },
                        None,
                    ) => match VictorRun::new(key.clone(), rounds) {
                        Ok((started, message)) => {
                            *run = Some(started);
                            on(Update::Paired {
                                peggy,
                                key: Some(key),
                            });
                            send(link, &[message]);
                        }
                        Err(e) => abort(link, on, e),
                    },
                    (message, Some(current)) => match current.handle(message) {
                        Ok(step) => {
                            ending.borrow_mut().finished = current.is_finished();
                            step.events.into_iter().for_each(|e| on(Update::Event(e)));
                            send(link, &step.send);
                            if current.awaiting_challenge() {
                                if mode == Mode::Fast {
                                    match current.challenge(&mut os_rng()) {
                                        Ok((event, m)) => {
                                            on(Update::Event(event));
                                            send(link, &[m]);
                                        }
                                        Err(e) => abort(link, on, e),
                                    }
                                } else {
                                    on(Update::ChallengeDue {
                                        round: current.round(),
                                    });
                                }
                            }
                        }
                        Err(e) => abort(link, on, e),
                    },
                    (message, None) => abort(
                        link,
                        on,
                        ProtocolError::from(format!(
                            "expected \"paired\" with Peggy's key first, got \"{}\"",
                            message.kind()
                        )),
                    ),
                }
            }
            SocketEvent::Closed { code, reason } => on(ended(&ending, code, reason)),
            SocketEvent::Open => ending.borrow_mut().opened = true,
            SocketEvent::Binary(_) => {}
        }
    })?;
    let control = VictorControl {
        link: socket.link().clone(),
        run,
        on,
    };
    Ok((socket, control))
}
