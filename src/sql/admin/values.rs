//! Property values as written: scalars, lists and nested `NAME = value` pairs (bounded depth), and
//! the property lists of CREATE and ALTER … SET.

use super::*;

impl Parser {
    /// A scalar, a parenthesised list of scalars, or parenthesised `NAME = value` pairs.
    pub(super) fn value(&mut self) -> Result<Value, SqlRejection> {
        self.nested_value(1)
    }

    /// Recursion bounded by [`MAX_VALUE_DEPTH`].
    fn nested_value(&mut self, depth: usize) -> Result<Value, SqlRejection> {
        if !self.eat(&Token::LParen) {
            return self.scalar();
        }
        if depth > MAX_VALUE_DEPTH {
            return Err(SqlRejection::Syntax(format!(
                "statement too complex: property values nest at most {MAX_VALUE_DEPTH} levels deep."
            )));
        }
        let pairs = matches!(self.peek(), Some(Token::Word(w)) if w.quote_style.is_none())
            && self.tokens.get(self.pos + 1) == Some(&Token::Eq);
        if pairs {
            return self.pairs(depth);
        }
        let mut items = Vec::new();
        if self.eat(&Token::RParen) {
            return Ok(Value::List(items));
        }
        loop {
            items.push(self.scalar()?);
            if self.eat(&Token::RParen) {
                return Ok(Value::List(items));
            }
            if !self.eat(&Token::Comma) {
                return Err(self.unexpected());
            }
        }
    }

    /// After `(`: `NAME = value` pairs, separated by commas or (as in `WORKLOAD_IDENTITY = (TYPE =
    /// AWS ARN = '…')`) by spaces, to the closing `)`.
    fn pairs(&mut self, depth: usize) -> Result<Value, SqlRejection> {
        let mut pairs = Vec::new();
        loop {
            let name = self.property_name()?;
            if !self.eat(&Token::Eq) {
                return Err(self.unexpected());
            }
            pairs.push((name, self.nested_value(depth + 1)?));
            if self.eat(&Token::RParen) {
                return Ok(Value::Pairs(pairs));
            }
            self.eat(&Token::Comma);
        }
    }

    /// An unquoted word, upper-cased.
    fn property_name(&mut self) -> Result<String, SqlRejection> {
        match self.peek() {
            Some(Token::Word(w)) if w.quote_style.is_none() => {
                let name = w.value.to_ascii_uppercase();
                self.pos += 1;
                Ok(name)
            }
            _ => Err(SqlRejection::Syntax(format!(
                "syntax error: expected a property name, found {}.",
                self.describe_next()
            ))),
        }
    }

    fn scalar(&mut self) -> Result<Value, SqlRejection> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s)) => self.advance(Value::Str(s)),
            Some(Token::DollarQuotedString(s)) => self.advance(Value::Str(s.value)),
            Some(Token::Number(n, _)) => self.advance(Value::Number(n)),
            Some(Token::Word(w)) => Identifier::from_parsed(&w.value, w.quote_style.is_some())
                .ok_or_else(|| SqlRejection::Syntax("syntax error: empty identifier.".into()))
                .and_then(|i| self.advance(Value::Ident(i))),
            _ => Err(SqlRejection::Syntax(format!(
                "syntax error: expected a value, found {}.",
                self.describe_next()
            ))),
        }
    }

    fn advance(&mut self, value: Value) -> Result<Value, SqlRejection> {
        self.pos += 1;
        Ok(value)
    }

    /// `NAME = value` pairs, optionally comma-separated, until the end of the statement.
    pub(super) fn properties(&mut self) -> Result<Vec<Property>, SqlRejection> {
        let mut props = Vec::new();
        while !self.at_end() && self.peek() != Some(&Token::SemiColon) {
            let name = match self.next() {
                Some(Token::Word(w)) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
                _ => {
                    self.pos -= 1;
                    return Err(SqlRejection::Syntax(format!(
                        "syntax error: expected a property name, found {}.",
                        self.describe_next()
                    )));
                }
            };
            if !self.eat(&Token::Eq) {
                return Err(SqlRejection::Syntax(format!(
                    "syntax error: expected = after {name}, found {}.",
                    self.describe_next()
                )));
            }
            let value = self.value()?;
            props.push(Property { name, value });
            self.eat(&Token::Comma);
        }
        Ok(props)
    }
}
