//! `zeek-zmq keygen NAME`: a CURVE key pair in the files the plugin's
//! options and `zeek-zmq`'s `--curve-*` options read.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use zeek_zeromq_writer::keys;

#[derive(Args, Debug)]
pub struct KeygenArgs {
    /// Writes NAME.key (the secret key, mode 0600) and NAME.pub (the public
    /// key), both Z85.
    #[arg(value_name = "NAME")]
    pub name: PathBuf,
    /// Replace existing files: each is written whole under a new name and
    /// renamed over the old one (a symbolic link is replaced, not followed).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: KeygenArgs) -> ExitCode {
    let written = keys::write_keypair(&args.name, args.force).and_then(|(secret, public)| {
        let key = keys::read_public_keys_file(&public)?;
        Ok((secret, public, key))
    });
    match written {
        Ok((secret, public, key)) => {
            println!("wrote {} (secret key, mode 0600)", secret.display());
            let z85 = key.first().map(keys::to_z85).unwrap_or_default();
            println!("wrote {} (public key {z85})", public.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zeek-zmq keygen: {e}");
            ExitCode::FAILURE
        }
    }
}
