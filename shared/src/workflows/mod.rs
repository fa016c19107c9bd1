//! Declarative workflows over identity events (`crate::events`): a flow is a trigger (an event
//! type), a condition (`expr`), and steps whose inputs are templates (`template`) run through
//! connectors with retries (`runner`). Documents are data (`flow`); nothing here calls out
//! except through the ports the runner declares (`runner::Connectors`, `RunStore`, `DeadLetters`, `Pause`).

pub mod connection;
pub mod connectors;
pub mod email_message;
pub mod email_step;
pub mod expr;
pub mod flow;
pub mod inactivity;
pub mod runner;
pub mod template;
pub mod user_actions;
