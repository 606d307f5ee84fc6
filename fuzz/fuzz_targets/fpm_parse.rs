//! Any input: the php-fpm parser returns a tree or a positioned error, never panics or hangs,
//! a tree prints back to the input byte for byte, and the fast path agrees with pest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nginx_fpm_lint::syntax::{fpm, leaves_cover};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = nginx_fpm_lint::source::decode(data.to_vec()) else {
        return;
    };
    let result = fpm::parse(&text);
    // The hand-written fast path must agree with the pest grammar on every input.
    assert_eq!(result, fpm::parse_reference(&text));
    match result {
        Ok(config) => {
            config.check_lossless().unwrap();
            leaves_cover(config.leaves_and_blanks(), text.len()).unwrap();
            assert_eq!(config.print(), text);
        }
        Err(e) => {
            assert!(e.span.end as usize <= text.len(), "{e:?}");
            assert!(text.is_char_boundary(e.span.start as usize), "{e:?}");
            assert!(e.at.line >= 1 && e.at.column >= 1);
        }
    }
});
