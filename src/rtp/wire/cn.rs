//! The RFC 3389 §3 comfort-noise payload (a SID frame): one noise-level byte, then
//! optional quantised reflection coefficients of an all-pole noise model.

use crate::rtp::Error;

/// A comfort-noise payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComfortNoise {
    /// Noise level in −dBov, 0–127 (the most significant bit of the byte is always 0).
    pub level_dbov: u8,
    /// Quantised reflection coefficients (model order = length; may be empty).
    pub reflection: Vec<u8>,
}

impl ComfortNoise {
    /// Parses a CN payload; it needs at least the level byte, whose MSB must be 0.
    pub fn parse(payload: &[u8]) -> Result<Self, Error> {
        let Some((&level, rest)) = payload.split_first() else {
            return Err(Error::Truncated {
                what: "comfort-noise payload",
                needed: 1,
                got: 0,
            });
        };
        if level & 0x80 != 0 {
            return Err(Error::InvalidField {
                what: "comfort-noise payload",
                field: "noise level (MSB must be 0)",
                value: u64::from(level),
            });
        }
        Ok(ComfortNoise {
            level_dbov: level,
            reflection: rest.to_vec(),
        })
    }

    /// Appends the payload to `out`; the level must be 0–127.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.level_dbov > 127 {
            return Err(Error::Emit {
                what: "comfort noise",
                detail: format!("level {} > 127 dBov", self.level_dbov),
            });
        }
        out.push(self.level_dbov);
        out.extend_from_slice(&self.reflection);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_byte_then_coefficients() {
        let cn = ComfortNoise {
            level_dbov: 60,
            reflection: vec![130, 120],
        };
        let mut v = vec![];
        cn.emit(&mut v).unwrap();
        assert_eq!(v, [60, 130, 120]);
        assert_eq!(ComfortNoise::parse(&v).unwrap(), cn);
        assert!(ComfortNoise::parse(&[]).is_err());
        assert!(ComfortNoise::parse(&[0x80]).is_err());
    }
}
