"""A Slack bot that manages WhatConverts profiles with the /profiles command."""
