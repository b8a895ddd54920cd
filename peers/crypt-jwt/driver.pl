#!/usr/bin/perl
# jose-harness peer driver for Perl's Crypt::JWT (Debian's libcrypt-jwt-perl, on CryptX), the
# peer protocol of ../README.md: JSON lines on stdin, one answer per line on stdout, in order.
use strict;
use warnings;
use Crypt::JWT qw(encode_jwt decode_jwt);
use JSON::XS ();
use MIME::Base64 qw(encode_base64url decode_base64url);
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

my $JSON = JSON::XS->new->utf8->canonical;
my $DOCS = 'https://metacpan.org/pod/Crypt::JWT';

# From Crypt::JWT's own alg table (encode_jwt) and CryptX: Ed25519 and X25519 but no Ed448/X448.
my %JWS = map { $_ => 1 } qw(HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES256K
  ES384 ES512 EdDSA);
my %JWE = map { $_ => 1 } ('dir', 'RSA1_5', 'RSA-OAEP', 'RSA-OAEP-256', 'A128KW', 'A192KW',
  'A256KW', 'A128GCMKW', 'A192GCMKW', 'A256GCMKW', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A192KW',
  'ECDH-ES+A256KW', 'PBES2-HS256+A128KW', 'PBES2-HS384+A192KW', 'PBES2-HS512+A256KW');
my %ENC = map { $_ => 1 } qw(A128CBC-HS256 A192CBC-HS384 A256CBC-HS512 A128GCM A192GCM A256GCM);
my %ECDH_CURVES = map { $_ => 1 } qw(P-256 P-384 P-521 X25519);
my %FORMS = (compact => 1, flattened => 1);
# 0.034's flattened JWE reader merges the optional "unprotected" member as a hash without checking
# it is there (JWT.pm line 535), so it dies on every flattened JWE that lacks one: declared.
my $FLATTENED_JWE_DECODE = "Crypt::JWT $Crypt::JWT::VERSION cannot read flattened JWE without an "
  . '"unprotected" member (it dereferences it unchecked)';

sub implemented {
  my ($s) = @_;
  if ($s->{family} eq 'JWS') {
    return 0 unless $JWS{ $s->{alg} };
    return $s->{alg} ne 'EdDSA' || ($s->{crv} // '') eq 'Ed25519';
  }
  return 0 unless $s->{family} eq 'JWE' && $JWE{ $s->{alg} } && $ENC{ $s->{enc} // '' };
  return 1 if $s->{alg} !~ /^ECDH-ES/;
  # Crypt::KeyWrap's direct ecdh_key_wrap/unwrap take Crypt::PK::ECC keys only (no X25519).
  return 0 if $s->{alg} eq 'ECDH-ES' && ($s->{crv} // '') eq 'X25519';
  return $ECDH_CURVES{ $s->{crv} // '' };
}

package Outcome { sub new { my ($class, $kind, $text) = @_; bless { kind => $kind, text => $text }, $class } }
sub unsupported { die Outcome->new('unsupported', $_[0]) }

sub check {
  my ($r) = @_;
  my $s = $r->{suite};
  unsupported("Crypt::JWT $Crypt::JWT::VERSION does not implement $s->{name}") unless implemented($s);
  my $form = $r->{serialization} // 'compact';
  unsupported("Crypt::JWT reads and writes compact and flattened JSON only, not $form")
    unless $FORMS{$form};
  unsupported($FLATTENED_JWE_DECODE)
    if $form eq 'flattened' && $s->{family} eq 'JWE' && $r->{op} eq 'decrypt';
}

# A JWKS goes to decode_jwt as kid_keys (Crypt::JWT picks by kid); a JWK as a hash ref.
sub key_args {
  my ($key) = @_;
  return (kid_keys => $key) if ref $key->{keys} eq 'ARRAY' && !exists $key->{kty};
  return (key => $key);
}

sub token_text {
  my ($token) = @_;
  return ref $token ? $JSON->encode($token) : $token;
}

# Each operation returns a closure of the data alone, so `bench` repeats only that.
sub prepare {
  my ($op, $r) = @_;
  check($r);
  my $s = $r->{suite};
  my $form = $r->{serialization} // 'compact';
  if ($op eq 'sign' || $op eq 'encrypt') {
    unsupported('the driver signs and encrypts with one JWK') if ref $r->{key}{keys} eq 'ARRAY';
    my %header = %{ $r->{header} // {} };
    my $zip = delete $header{zip};
    delete @header{qw(alg enc)};
    my %args = (alg => $s->{alg}, key => $r->{key}, serialization => $form,
      extra_headers => \%header);
    if ($op eq 'encrypt') {
      $args{enc} = $s->{enc};
      if (defined $zip) {
        unsupported("Crypt::JWT compresses with DEF only") unless $zip eq 'DEF';
        $args{zip} = 'deflate';
      }
    }
    my $data = decode_base64url($op eq 'sign' ? $r->{payload} : $r->{plaintext});
    return sub {
      my $token = encode_jwt(payload => $data, %args);
      return $form eq 'compact' ? $token : $JSON->decode($token);
    };
  }
  my $jwt = ($r->{entry_point} // 'jws') eq 'jwt';
  unsupported('decode_jwt takes compact JWTs here') if $jwt && $form ne 'compact';
  my %args = (token => token_text($r->{token}), key_args($r->{key}),
    decode_payload => $jwt ? 1 : 0);
  # Without accepted_alg/accepted_enc decode_jwt takes every alg except "none".
  if (my $allowed = $r->{algorithms}) {
    my @names = grep { $_ ne 'DEF' } @$allowed;
    if ($s->{family} eq 'JWE') {
      $args{accepted_alg} = [grep { !$ENC{$_} } @names];
      $args{accepted_enc} = [grep { $ENC{$_} } @names];
    }
    else {
      $args{accepted_alg} = \@names;
    }
  }
  my $member = $op eq 'verify' ? 'payload' : 'plaintext';
  return sub {
    my $data = eval { decode_jwt(%args) };
    die refusal($@) if $@;
    # The JWT API's claims (a Perl hash keeps no order): canonical JSON, keys sorted.
    $data = $JSON->encode($data) if $jwt;
    return { $member => encode_base64url($data) };
  };
}

# Crypt::JWT croaks "JWS: ..."/"JWE: ..."/"JWT: ..." and CryptX "FATAL: ..." when it refuses a
# token; a Perl runtime error raised inside the library (it dereferences a member the token lacks)
# is no refusal but a crash of the library, answered as `error`.
sub refusal {
  my ($text) = @_;
  my $crash = $text =~ /^(Can't use|Can't call|Not an? \w+ reference|Undefined subroutine|Modification of)/;
  return Outcome->new($crash ? 'error' : 'rejected', clean($text));
}

sub clean { my ($text) = @_; $text =~ s/ at \S+ line \d+\.?\s*$//s; return $text }

sub info {
  my ($suites) = @_;
  my @names = map { $_->{name} } grep { implemented($_) } @$suites;
  my $forms = { JWS => [qw(compact flattened)], JWE => [qw(compact flattened)] };
  my $reads = { JWS => [qw(compact flattened)], JWE => ['compact'] };
  return { name => 'Crypt::JWT', version => "$Crypt::JWT::VERSION", language => 'perl',
    runtime => sprintf('perl %vd, CryptX %s', $^V, $CryptX::VERSION),
    supports => \@names, allows_by_default => \@names, produces => $forms, consumes => $reads,
    entry_points => { jws => "decode_jwt(decode_payload => 0) ($DOCS)",
      jwt => "decode_jwt(decode_payload => 1), claims checked ($DOCS)" } };
}

sub bench {
  my ($r) = @_;
  my %inner = (%{ $r->{request} }, op => $r->{operation});
  my $run = prepare($r->{operation}, \%inner);
  $run->();
  my $start = clock_gettime(CLOCK_MONOTONIC);
  $run->() for 1 .. $r->{n};
  return { n => $r->{n}, seconds => clock_gettime(CLOCK_MONOTONIC) - $start };
}

sub answer {
  my ($r) = @_;
  my $id = $r->{id};
  my $result = eval {
    my $op = $r->{op} // '';
    return info($r->{suites} // []) if $op eq 'info';
    return [map { answer($_) } @{ $r->{requests} // [] }] if $op eq 'batch';
    return bench($r) if $op eq 'bench';
    exit 3 if $op eq 'crash';
    sleep 1 while $op eq 'hang';
    unsupported("unknown op '$op'") unless $op =~ /^(sign|verify|encrypt|decrypt)$/;
    return prepare($op, $r)->();
  };
  return { id => $id, result => $result } unless $@;
  my $error = $@;
  return { id => $id, $error->{kind} => $error->{text} } if ref $error eq 'Outcome';
  return { id => $id, error => clean("$error") };
}

$| = 1;
require CryptX;
while (my $line = <STDIN>) {
  next unless $line =~ /\S/;
  my $request = eval { $JSON->decode($line) };
  my $reply = $request ? answer($request) : { id => undef, error => "bad request line: $@" };
  print $JSON->encode($reply), "\n";
}
