"""`kubectl sej`: the job owner's command line (a kubectl plugin), with the user's kubeconfig
and AWS credentials, never the operator's."""
