# Shared RFC 5321 productions (grammar only; no actions are defined here).
#
# Including machines must define three actions before the include:
#   label_begin   entered at the first octet of every Domain label
#   label_end     left after the last octet of every Domain label
#   non_ascii     on every octet >= 0x80 accepted by the UTF-8 forms below
# so that the label (63, RFC 1035 §2.3.4) and name (255, RFC 5321 §4.5.3.1.2)
# limits are checked from offsets instead of with bounded repetition, and
# SMTPUTF8 (RFC 6531) is decided after the match, from the offsets.
%%{
  machine smtp_common;

  # RFC 5321 §4.1.2 -------------------------------------------------------
  let_dig    = alpha | digit;
  ldh_str    = ( alpha | digit | '-' )* let_dig;
  sub_domain = ( let_dig ldh_str? ) >label_begin %label_end;
  domain     = sub_domain ( '.' sub_domain )*;

  # RFC 5321 §4.1.3 -------------------------------------------------------
  # Snum = 1*3DIGIT, "representing a decimal integer value in the range 0
  # through 255": leading zeros are grammatical ("010" is 10).
  snum = digit
       | digit digit
       | [01] digit digit
       | '2' [0-4] digit
       | '25' [0-5];
  ipv4_address_literal = snum '.' snum '.' snum '.' snum;

  ipv6_hex  = xdigit{1,4};
  ipv6_full = ipv6_hex ( ':' ipv6_hex ){7};

  # IPv6-comp: "No more than 6 groups in addition to the '::' may be present",
  # so every split of at most 6 groups around the "::" is spelled out. Kept as
  # published: erratum 2467 (allow "::" for one group) was rejected, citing
  # RFC 5952 section 4.2.2; erratum 4315 (the same) is only "held for document
  # update". So "1:2:3:4:5:6:7::" is refused although inet_pton accepts it.
  ipv6_comp = '::' ( ipv6_hex ( ':' ipv6_hex ){0,5} )?
            | ipv6_hex '::' ( ipv6_hex ( ':' ipv6_hex ){0,4} )?
            | ipv6_hex ( ':' ipv6_hex ){1} '::' ( ipv6_hex ( ':' ipv6_hex ){0,3} )?
            | ipv6_hex ( ':' ipv6_hex ){2} '::' ( ipv6_hex ( ':' ipv6_hex ){0,2} )?
            | ipv6_hex ( ':' ipv6_hex ){3} '::' ( ipv6_hex ( ':' ipv6_hex ){0,1} )?
            | ipv6_hex ( ':' ipv6_hex ){4} '::' ipv6_hex?
            | ipv6_hex ( ':' ipv6_hex ){5} '::';

  ipv6v4_full = ipv6_hex ( ':' ipv6_hex ){5} ':' ipv4_address_literal;

  # IPv6v4-comp: "No more than 4 groups in addition to the '::' and
  # IPv4-address-literal may be present".
  ipv6v4_comp = '::' ( ipv6_hex ':' ){0,4} ipv4_address_literal
              | ipv6_hex '::' ( ipv6_hex ':' ){0,3} ipv4_address_literal
              | ipv6_hex ( ':' ipv6_hex ){1} '::' ( ipv6_hex ':' ){0,2} ipv4_address_literal
              | ipv6_hex ( ':' ipv6_hex ){2} '::' ( ipv6_hex ':' )? ipv4_address_literal
              | ipv6_hex ( ':' ipv6_hex ){3} '::' ipv4_address_literal;

  ipv6_addr = ipv6_full | ipv6_comp | ipv6v4_full | ipv6v4_comp;

  # The tag is case-insensitive: ABNF quoted strings are (RFC 5234 §2.3).
  ipv6_address_literal = 'IPv6:'i ipv6_addr;

  # dcontent: printable US-ASCII except "[", "\" and "]".
  dcontent = 33..90 | 94..126;
  # Deviation from the ABNF, on purpose: "IPv6" is a registered tag whose
  # syntax is IPv6-addr (§4.1.3, §8), so it cannot also introduce a general
  # literal; "[IPv6:garbage]" is rejected instead of passing as general.
  standardized_tag = ldh_str - 'IPv6'i;
  general_address_literal = standardized_tag ':' dcontent+;

  address_literal = '[' ( ipv4_address_literal
                        | ipv6_address_literal
                        | general_address_literal ) ']';

  # RFC 5321 §4.1.2: Mailbox and Path ------------------------------------
  # RFC 6531 §3.3 extends atext, qtextSMTP and sub-domain (U-label) with
  # UTF8-non-ascii. The machine accepts any octet >= 0x80 there and marks it
  # (non_ascii); whether UTF-8 is allowed at all, and whether it is valid
  # UTF-8 and a valid U-label, is checked afterwards (src/syntax/parse_path.cpp).
  utf8_octet = 0x80..0xff @non_ascii;

  # RFC 5322 §3.2.3 atext, which RFC 5321 §4.1.2 uses for Atom.
  atext = alpha | digit | [!#$%&'*+\-/=?^_`{|}~] | utf8_octet;
  atom = atext+;
  dot_string = atom ( '.' atom )*;
  # qtextSMTP: printable US-ASCII except '"' and '\'; quoted-pairSMTP:
  # backslash followed by any printable US-ASCII or SP.
  qtext_smtp = 32..33 | 35..91 | 93..126 | utf8_octet;
  quoted_pair_smtp = '\\' 32..126;
  quoted_string = '"' ( qtext_smtp | quoted_pair_smtp )* '"';
  string = atom | quoted_string;

  # sub-domain =/ U-label (RFC 6531 §3.3): same shape as LDH, any octet >= 0x80
  # counted as a letter; libidn2 judges the label afterwards.
  u_let_dig    = let_dig | utf8_octet;
  u_ldh_str    = ( u_let_dig | '-' )* u_let_dig;
  u_sub_domain = ( u_let_dig u_ldh_str? ) >label_begin %label_end;
  u_domain     = u_sub_domain ( '.' u_sub_domain )*;
}%%
