//! What Okta and Entra ID really send, replayed; races; tenancy; a failing Cognito; and the
//! AWS calls each operation costs.

use crate::harness::*;
use crate::scim_harness::*;
