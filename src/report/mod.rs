//! `report`: CSV and JSON outputs, charts (plotters), SIP ladder diagrams and pcap files.
